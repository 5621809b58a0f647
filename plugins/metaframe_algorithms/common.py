"""Pieces shared by the built-in algorithms: choosing networks, outer optimizers, averaging logs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn

from metaframe.api import TaskModel, UsageError


def chosen_networks(model: TaskModel, wanted: Sequence[str], algorithm: str) -> tuple[str, ...]:
    """The networks to meta-learn: ``wanted`` (checked against the model), or all of them when empty."""
    available = tuple(model.networks)
    unknown = [name for name in wanted if name not in available]
    if unknown:
        raise UsageError(
            f"{algorithm}: the model has no network {unknown[0]!r}; it has {', '.join(available)} "
            f"(set algorithm.networks to some of them)"
        )
    return tuple(wanted) or available


def outer_optimizer(kind: str, params: Iterable[nn.Parameter], lr: float) -> torch.optim.Optimizer:
    """The optimizer that applies meta-gradients: ``adam`` or ``sgd``."""
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr)
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr)
    raise UsageError(f"outer_optimizer must be adam or sgd, got {kind!r}")


def mean_logs(logs: list[dict[str, float]]) -> dict[str, float]:
    """Average each key over a list of log dicts (keys missing from some entries average the rest)."""
    keys = {key for log in logs for key in log}
    return {key: sum(log[key] for log in logs if key in log) / sum(key in log for log in logs) for key in keys}

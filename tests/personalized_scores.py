"""The evaluation protocol written out by hand, for tests that check eval scores a run with its
algorithm's own personalization rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch

from metaframe.build import build_setup
from metaframe.checkpoint import load_into
from metaframe.params import restore, snapshot
from metaframe.plugins import Plugins
from metaframe.run_folder import RunFolder


def scores_under(run: Path, plugins: Plugins, rule: Callable, eval_tasks: int) -> float:
    """Mean query MSE of the first ``eval_tasks`` held-out tasks after the personalization
    ``rule(model, meta_tensors)`` returns (called as ``personalize(model, support, steps, schedule)``)."""
    config = RunFolder(run).stored_config()
    config.options["task"]["eval_tasks"] = eval_tasks
    session = build_setup(config, plugins)
    personalize = rule(session.model, load_into(session.model, run / "model.safetensors"))
    start, total = snapshot(session.model.networks), 0.0
    for index, task in enumerate(session.sampler.eval_tasks()):
        restore(session.model.networks, start)
        torch.manual_seed(config.settings.seed + index)
        personalize(session.model, task.support, config.settings.t, config.settings.inner_schedule)
        session.model.train(False)
        total += session.model.score(task.query)["mse"]
    return total / eval_tasks

"""Model ``mlp``: a small fully connected regressor (1 → 40 → 40 → 1, ReLU) with an MSE objective."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from metaframe.api import (
    Batch,
    Capability,
    FunctionalOptimizer,
    OptimizerSpec,
    TaskModel,
    UsageError,
    strip_prefix,
)


@dataclass
class MLPOptions:
    """Options of the ``mlp`` model (``--set model.KEY=VALUE``).

    :param hidden: widths of the hidden layers.
    :param optimizer: inner optimizer, ``adam`` or ``sgd``.
    :param lr: inner learning rate.
    :param beta1: Adam's β1 (0 as in the Reptile paper's sine experiments).
    """

    hidden: tuple[int, ...] = (40, 40)
    optimizer: str = "adam"
    lr: float = 0.01
    beta1: float = 0.0

    def __post_init__(self) -> None:
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be adam or sgd, got {self.optimizer!r}")
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"hidden needs one or more widths of at least 1, got {self.hidden}")
        if self.lr <= 0 or not 0 <= self.beta1 < 1:
            raise ValueError(f"lr must be positive and beta1 in [0, 1), got lr={self.lr}, beta1={self.beta1}")


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers of the given sizes with ReLU between them."""
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class MLPRegressor(TaskModel):
    """An MLP regressor, meta-learnable by every algorithm (it declares the functional capability)."""

    capabilities = frozenset({Capability.FUNCTIONAL})
    functional_networks = ("mlp",)
    metric_goals = {"mse": "min"}
    needs_keys = {"x": ("B", "in_features"), "y": ("B", "out_features")}

    def __init__(self, options: MLPOptions, in_features: int, out_features: int) -> None:
        super().__init__({"mlp": mlp([in_features, *options.hidden, out_features])})
        self.options = options

    def memory_estimate(self, examples: int) -> int:
        """Each example's activations and their gradients through every layer, in float32, plus room
        for autograd's copies (×4)."""
        widths = [layer.out_features for layer in self.networks["mlp"] if isinstance(layer, nn.Linear)]
        return examples * 4 * 4 * (self.networks["mlp"][0].in_features + 2 * sum(widths))

    def inner_optimizer_specs(self) -> dict[str, OptimizerSpec]:
        """The one optimizer of the options, which both inner loops use."""
        return {"mlp": OptimizerSpec(self.options.optimizer, self.options.lr, (self.options.beta1, 0.999))}

    def inner_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"mlp": self.inner_optimizer_specs()["mlp"].build(self.networks["mlp"].parameters())}

    def inner_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, float]:
        loss = self.losses(batch)["mlp"]
        optimizers["mlp"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["mlp"].step()
        return {"loss": loss.item()}

    def losses(self, batch: Batch) -> dict[str, Tensor]:
        return {"mlp": F.mse_loss(self.networks["mlp"](batch["x"]), batch["y"])}

    @torch.no_grad()
    def score(self, batch: Batch) -> dict[str, float]:
        return {"mse": self.losses(batch)["mlp"].item()}

    def functional_loss(self, params: Mapping[str, Tensor], batch: Batch) -> Tensor:
        prediction = functional_call(self.networks["mlp"], strip_prefix(params, "mlp"), (batch["x"],))
        return F.mse_loss(prediction, batch["y"])

    def functional_inner_step(
        self, params: Mapping[str, Tensor], optimizers: Mapping[str, FunctionalOptimizer], batch: Batch
    ) -> tuple[dict[str, Tensor], dict[str, FunctionalOptimizer]]:
        """:meth:`inner_step` on explicit weights: one step of the mlp's optimizer on the batch's loss."""
        moved, optimizer = optimizers["mlp"].step(params, self.functional_loss(params, batch))
        return moved, {"mlp": optimizer}


def build(options: MLPOptions, task_info: dict[str, Any]) -> MLPRegressor:
    """Fully connected regressor (1→40→40→1, ReLU), MSE; the toy's model."""
    for key in ("in_features", "out_features"):
        if key not in task_info:
            raise UsageError(f"model mlp needs a task with vector inputs and targets (its info lacks {key!r})")
    return MLPRegressor(options, task_info["in_features"], task_info["out_features"])

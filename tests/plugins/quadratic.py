"""A fixture plugin with closed-form answers: each task is a target point c, the loss ½‖w − c‖²."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from metaframe.api import (
    Batch,
    Capability,
    Register,
    Task,
    TaskModel,
    TaskSampler,
    UsageError,
    hookimpl,
)


@dataclass
class QuadraticOptions:
    """:param lr: the inner SGD learning rate (positive and finite)."""

    lr: float = 0.1

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be positive and finite, got {self.lr}")


@dataclass
class PointsOptions:
    """:param dim: the dimension of the points (at least 1)."""

    dim: int = 3

    def __post_init__(self) -> None:
        if self.dim < 1:
            raise ValueError(f"dim must be at least 1, got {self.dim}")


class Point(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.linspace(-1, 1, dim))


def half_squared_distance(w: Tensor, batch: Batch) -> Tensor:
    return 0.5 * ((w - batch["c"]) ** 2).sum(-1).mean()


class Quadratic(TaskModel):
    """½‖w − c‖² with plain SGD: every algorithm has a closed form on it."""

    capabilities = frozenset({Capability.FUNCTIONAL})
    functional_networks = ("point",)
    metric_goals = {"distance": "min"}
    needs_keys = {"c": ("B", "D")}

    def __init__(self, dim: int, lr: float) -> None:
        super().__init__({"point": Point(dim)})
        self.lr = lr

    def inner_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"point": torch.optim.SGD(self.networks["point"].parameters(), lr=self.lr)}

    def inner_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, float]:
        loss = self.losses(batch)["point"]
        optimizers["point"].zero_grad()
        loss.backward()
        optimizers["point"].step()
        return {"loss": loss.item()}

    def losses(self, batch: Batch) -> dict[str, Tensor]:
        return {"point": half_squared_distance(self.networks["point"].w, batch)}

    def memory_estimate(self, examples: int) -> int:
        """The support batch, its loss's gradient and autograd's copies, in float32 (×4)."""
        return examples * 4 * 4 * self.networks["point"].w.numel()

    @torch.no_grad()
    def score(self, batch: Batch) -> dict[str, float]:
        return {"distance": (self.networks["point"].w - batch["c"][0]).norm().item()}

    def functional_loss(self, params: Mapping[str, Tensor], batch: Batch) -> Tensor:
        return half_squared_distance(params["point.w"], batch)


class PlainQuadratic(Quadratic):
    """The same model without the functional capability (second-order MAML must refuse it)."""

    capabilities = frozenset()


class Points(TaskSampler):
    """Tasks are target points c ~ N(0, I)."""

    batch_keys = {"c": ("B", "D")}

    def __init__(self, dim: int, k: int) -> None:
        self.dim, self.k = dim, k

    @property
    def info(self) -> dict[str, Any]:
        return {"dim": self.dim}

    def sample(self, generator: torch.Generator) -> Task:
        c = torch.randn(self.dim, generator=generator)
        batch = {"c": c.expand(self.k, self.dim).clone()}
        return Task(f"point{c.tolist()}", batch, {"c": c.expand(2, self.dim).clone()}, {"c": c.tolist()})

    def eval_tasks(self) -> list[Task]:
        generator = torch.Generator().manual_seed(99)
        return [self.sample(generator) for _ in range(3)]


def needs_points(task_info: dict[str, Any]) -> None:
    if "dim" not in task_info:
        raise UsageError("the quadratic models need the points task")


def build_model(options: QuadraticOptions, task_info: dict[str, Any]) -> Quadratic:
    """½‖w − c‖² with SGD (closed forms for tests)."""
    needs_points(task_info)
    return Quadratic(task_info["dim"], options.lr)


def build_plain(options: QuadraticOptions, task_info: dict[str, Any]) -> PlainQuadratic:
    """½‖w − c‖² without the functional capability."""
    needs_points(task_info)
    return PlainQuadratic(task_info["dim"], options.lr)


def build_task(options: PointsOptions, k: int) -> Points:
    """Target points c ~ N(0, I)."""
    return Points(options.dim, k)


@hookimpl
def register_models(register: Register) -> None:
    register("quadratic", build_model, options=QuadraticOptions)
    register("quadratic-plain", build_plain, options=QuadraticOptions)


@hookimpl
def register_tasks(register: Register) -> None:
    register("points", build_task, options=PointsOptions)

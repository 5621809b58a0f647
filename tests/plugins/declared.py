"""Fixture models on the quadratic plugin's ``points`` task, for the capability checks: two networks that
share one loss (a body and a head), a model declaring a capability it cannot perform, and networks that
take turns without saying how."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from metaframe.api import Batch, Capability, NoOptions, Register, TaskModel, hookimpl
from tests.plugins.quadratic import Point, Points, Quadratic, half_squared_distance, needs_points


class BodyHead(TaskModel):
    """w = body + head, ½‖w − c‖²: two networks, one loss, each with its own SGD; declares ``functional``
    with ``functional_loss`` only (a model written against the first API)."""

    capabilities = frozenset({Capability.FUNCTIONAL})
    functional_networks = ("body", "head")
    metric_goals = {"distance": "min"}

    def __init__(self, dim: int) -> None:
        super().__init__({"body": Point(dim), "head": Point(dim)})
        with torch.no_grad():
            self.networks["head"].w.mul_(0.5)

    def inner_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        rates = {"body": 0.1, "head": 0.3}
        return {name: torch.optim.SGD(self.networks[name].parameters(), lr=lr) for name, lr in rates.items()}

    def inner_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, float]:
        loss = self.functional_loss(dict(self.networks.named_parameters()), batch)
        for optimizer in optimizers.values():
            optimizer.zero_grad()
        loss.backward()
        for optimizer in optimizers.values():
            optimizer.step()
        return {"loss": loss.item()}

    def losses(self, batch: Batch) -> dict[str, Tensor]:
        loss = self.functional_loss(dict(self.networks.named_parameters()), batch)
        return {"body": loss, "head": loss}

    @torch.no_grad()
    def score(self, batch: Batch) -> dict[str, float]:
        w = self.networks["body"].w + self.networks["head"].w
        return {"distance": (w - batch["c"][0]).norm().item()}

    def functional_loss(self, params: Mapping[str, Tensor], batch: Batch) -> Tensor:
        return half_squared_distance(params["body.w"] + params["head.w"], batch)


class Boastful(Quadratic):
    """Declares ``samples`` but draws nothing."""

    capabilities = frozenset({Capability.FUNCTIONAL, Capability.SAMPLES})


class Secretive(Quadratic):
    """Scores predictions made elsewhere without declaring ``predictions``: the engine would never ask."""

    def score_predictions(self, predicted: Tensor, batch: Batch) -> dict[str, float]:
        return {"distance": (predicted - batch["c"]).norm().item()}


class OldStyle(Quadratic):
    """Written against 0.1: its capability is the string ``"functional"``, not ``Capability.FUNCTIONAL``."""

    capabilities = frozenset({"functional"})  # type: ignore[assignment]


class ShyPoints(Points):
    """Declares ``show`` but writes nothing."""

    capabilities = frozenset({Capability.SHOW})


class TurnTaker(Quadratic):
    """Adapts a second network outside its functional networks, without a functional inner step."""

    def __init__(self, dim: int, lr: float) -> None:
        super().__init__(dim, lr)
        self.networks["critic"] = Point(dim)

    def inner_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {name: torch.optim.SGD(self.networks[name].parameters(), lr=self.lr) for name in ("point", "critic")}


def build_body_head(options: NoOptions, task_info: dict[str, Any]) -> BodyHead:
    """Body + head, one shared loss."""
    needs_points(task_info)
    return BodyHead(task_info["dim"])


def build_boastful(options: NoOptions, task_info: dict[str, Any]) -> Boastful:
    """Declares samples, draws none."""
    needs_points(task_info)
    return Boastful(task_info["dim"], 0.1)


def build_secretive(options: NoOptions, task_info: dict[str, Any]) -> Secretive:
    """Scores predictions, declares nothing."""
    needs_points(task_info)
    return Secretive(task_info["dim"], 0.1)


def build_old_style(options: NoOptions, task_info: dict[str, Any]) -> OldStyle:
    """Declares a capability as a string."""
    needs_points(task_info)
    return OldStyle(task_info["dim"], 0.1)


def build_shy_points(options: NoOptions, k: int) -> ShyPoints:
    """Declares show, shows nothing."""
    return ShyPoints(2, k)


def build_turn_taker(options: NoOptions, task_info: dict[str, Any]) -> TurnTaker:
    """Two networks that take turns, no functional inner step."""
    needs_points(task_info)
    return TurnTaker(task_info["dim"], 0.1)


@hookimpl
def register_models(register: Register) -> None:
    register("body-head", build_body_head)
    register("boastful", build_boastful)
    register("old-style", build_old_style)
    register("secretive", build_secretive)
    register("turn-taker", build_turn_taker)


@hookimpl
def register_tasks(register: Register) -> None:
    register("shy-points", build_shy_points)

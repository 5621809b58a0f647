"""A fixture plugin of two algorithms that own their personalization, as a third party would write them.

``head-only`` (ANIL-like): training and personalization adapt the last layer of the ``mlp`` only.
``learned-rates`` (Meta-SGD-like): personalization is SGD with one learned step size per parameter
tensor; the step sizes are meta-learned state, saved with the weights.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from metaframe.api import Batch, OuterAlgorithm, Register, Task, TaskModel, hookimpl, restore, snapshot

LR = 0.02


def head(model: TaskModel) -> nn.Linear:
    return [layer for layer in model.networks["mlp"] if isinstance(layer, nn.Linear)][-1]


class HeadOnly(OuterAlgorithm):
    """ANIL-like: Reptile over the whole network, every adaptation on the last layer only."""

    def __init__(self, model: TaskModel, steps: int) -> None:
        self.model, self.steps = model, steps

    def personalize(self, model: TaskModel, support: Batch, steps: int, schedule: str) -> list[dict[str, float]]:
        optimizer = torch.optim.SGD(head(model).parameters(), lr=LR)
        history = []
        for _ in range(steps):
            loss = model.losses(support)["mlp"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.append({"loss": loss.item()})
        return history

    def step(self, tasks: list[Task], iteration: int) -> dict[str, float]:
        start = snapshot(self.model.networks)
        self.personalize(self.model, tasks[0].support, self.steps, "constant")
        adapted = snapshot(self.model.networks)
        restore(self.model.networks, {k: start[k] + 0.5 * (adapted[k] - start[k]) for k in start})
        return {"loss": self.model.losses(tasks[0].query)["mlp"].item()}


class LearnedRates(OuterAlgorithm):
    """Meta-SGD-like: SGD with a learned step size per parameter tensor (meta-learned: the sizes)."""

    def __init__(self, model: TaskModel, steps: int) -> None:
        self.model, self.steps = model, steps
        names = [name for name, _ in model.networks["mlp"].named_parameters()]
        self.log_rates = {name: torch.tensor(math.log(LR)) for name in names}

    def personalize(self, model: TaskModel, support: Batch, steps: int, schedule: str) -> list[dict[str, float]]:
        parameters = dict(model.networks["mlp"].named_parameters())
        history = []
        for _ in range(steps):
            loss = model.losses(support)["mlp"]
            grads = torch.autograd.grad(loss, list(parameters.values()))
            with torch.no_grad():
                for (name, parameter), grad in zip(parameters.items(), grads):
                    parameter -= self.log_rates[name].exp() * grad
            history.append({"loss": loss.item()})
        return history

    def step(self, tasks: list[Task], iteration: int) -> dict[str, float]:
        before = self.model.losses(tasks[0].query)["mlp"].item()
        start = snapshot(self.model.networks)
        self.personalize(self.model, tasks[0].support, self.steps, "constant")
        after = self.model.losses(tasks[0].query)["mlp"].item()
        restore(self.model.networks, start)
        # a crude meta-update of the step sizes: larger while adaptation helps, smaller when it hurts
        change = 0.1 if after < before else -0.1
        self.log_rates = {name: rate + change for name, rate in self.log_rates.items()}
        return {"loss": after, "rate": self.log_rates["0.weight"].exp().item()}

    def state_dict(self) -> dict[str, Any]:
        return {"log_rates": dict(self.log_rates)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.log_rates = dict(state["log_rates"])

    def meta_tensors(self) -> dict[str, Tensor]:
        return {f"log_rate.{name}": rate for name, rate in self.log_rates.items()}

    def load_meta_tensors(self, tensors: dict[str, Tensor]) -> None:
        self.log_rates = {name.removeprefix("log_rate."): rate for name, rate in tensors.items()}


@hookimpl
def register_algorithms(register: Register) -> None:
    register("head-only", lambda options, model, settings: HeadOnly(model, settings.t), "ANIL-like.")
    register("learned-rates", lambda options, model, settings: LearnedRates(model, settings.t), "Meta-SGD-like.")

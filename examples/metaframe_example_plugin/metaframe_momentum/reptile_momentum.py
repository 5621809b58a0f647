"""``reptile-momentum``: Reptile whose meta-step is taken by SGD with heavy-ball momentum.

Reptile's update θ ← θ + ε(θ̃ − θ) is one SGD step of size ε on the pseudo-gradient θ − θ̃ (Nichol et
al., 2018). Feeding that pseudo-gradient to ``torch.optim.SGD(momentum=β)`` averages the noisy
single-task directions over meta-iterations, which lets a meta-batch of 1 (cheap, and what a GAN
like Pose2Im can afford) behave more like a larger one. With ``momentum=0`` it is Reptile with a
constant ε, exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from metaframe.api import (
    OuterAlgorithm,
    Settings,
    Task,
    TaskModel,
    UsageError,
    accumulate,
    adapt,
    named_parameters,
    restore,
    scale,
    select,
    snapshot,
)


@dataclass
class MomentumOptions:
    """Options of ``reptile-momentum`` (``--set algorithm.KEY=VALUE``).

    :param epsilon: the SGD step size; the long-run step is ε / (1 − momentum).
    :param momentum: heavy-ball coefficient β in [0, 1); 0 is plain Reptile with constant ε.
    :param nesterov: use Nesterov momentum (needs momentum > 0).
    :param networks: networks to meta-learn (empty: all); the others keep their weights.
    """

    epsilon: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.epsilon <= 0:
            raise ValueError(f"epsilon must be positive, got {self.epsilon}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov needs momentum > 0")


class ReptileMomentum(OuterAlgorithm):
    """Reptile with a momentum meta-step: θ − θ̃ fed as a gradient to SGD with momentum."""

    requires = frozenset()  # only the methods every TaskModel has: any model will do

    def __init__(self, options: MomentumOptions, model: TaskModel, settings: Settings) -> None:
        unknown = sorted(set(options.networks) - set(model.networks))
        if unknown:
            have = ", ".join(model.networks)
            raise UsageError(f"reptile-momentum: the model has no network {unknown[0]!r}; it has {have}")
        self.model, self.settings = model, settings
        self.params = named_parameters(model.networks, options.networks or list(model.networks))
        self.optimizer = torch.optim.SGD(
            self.params.values(), lr=options.epsilon, momentum=options.momentum, nesterov=options.nesterov
        )

    def step(self, tasks: list[Task], iteration: int) -> dict[str, float]:
        start = snapshot(self.model.networks)
        total, losses = None, []
        for task in tasks:
            restore(self.model.networks, start)
            history = adapt(self.model, task.support, self.settings.t, self.settings.inner_schedule)
            losses.append(history[-1])
            total = accumulate(total, select(snapshot(self.model.networks), self.params))
        assert total is not None, "a meta-batch holds at least one task"
        adapted = self.reduce_mean(scale(total, 1 / len(tasks)), len(tasks))  # the whole meta-batch (torchrun)
        restore(self.model.networks, start)  # buffers and unselected networks keep their start values
        for key, param in self.params.items():
            param.grad = param.detach() - adapted[key]
        distance = math.sqrt(sum(param.grad.pow(2).sum().item() for param in self.params.values()))
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return {**{key: sum(log[key] for log in losses) / len(losses) for key in losses[0]}, "distance": distance}

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict()}  # the momentum buffers: a resumed run continues exactly

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])

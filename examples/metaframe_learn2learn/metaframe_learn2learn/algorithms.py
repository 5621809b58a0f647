"""``l2l-maml`` and ``l2l-metasgd``: learn2learn's MAML and Meta-SGD as metaframe outer algorithms.

learn2learn wraps a module: ``clone()`` gives a learner whose parameters stay differentiable functions
of the wrapped ones, and ``learner.adapt(loss)`` takes one inner step on them. The wrapped module here is
a ``ModuleDict`` of the model's functional networks, so a learner's parameter names are metaframe's
qualified names (``mlp.0.weight``) and its loss is the model's own ``functional_loss`` of them. Each
algorithm personalizes with its own rule (plain SGD steps; Meta-SGD's learned step sizes), which
``eval``, ``compare`` and the run's samples use through :meth:`OuterAlgorithm.personalize`.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from metaframe.api import (
    Batch,
    Capability,
    OuterAlgorithm,
    Settings,
    Task,
    TaskModel,
    UsageError,
    inner_lr_factor,
    named_parameters,
)
from metaframe_learn2learn.library import MAML, MetaSGD

RATE_PREFIX = "lr."  # Meta-SGD's step sizes in model.safetensors: algorithm.lr.<qualified parameter name>


@dataclass
class Learn2LearnOptions:
    """Options of ``l2l-maml`` and ``l2l-metasgd`` (``--set algorithm.KEY=VALUE``).

    :param outer_lr: learning rate of the outer Adam optimizer.
    :param inner_lr: the inner SGD step size (Meta-SGD: every step size's initial value); default: the
        learning rate of the model's own inner optimizer.
    :param first_order: drop the second-order terms of the meta-gradient (learn2learn's ``first_order``).
    """

    outer_lr: float = 1e-3
    inner_lr: float | None = None
    first_order: bool = False

    def __post_init__(self) -> None:
        if self.outer_lr <= 0 or (self.inner_lr is not None and self.inner_lr <= 0):
            raise ValueError(f"learning rates must be positive, got outer_lr={self.outer_lr}, inner_lr={self.inner_lr}")


def functional_modules(model: TaskModel) -> nn.ModuleDict:
    """The networks ``functional_loss`` takes, under their own names (the modules themselves, not copies)."""
    return nn.ModuleDict({name: model.networks[name] for name in model.functional_networks})


def own_inner_lr(model: TaskModel) -> float:
    """The learning rate of the model's inner optimizer for its first functional network."""
    return model.inner_optimizers()[model.functional_networks[0]].param_groups[0]["lr"]


def learner_loss(model: TaskModel, learner: Any, batch: Batch) -> Tensor:
    """The model's loss on ``batch`` at a learn2learn learner's (differentiable) parameters."""
    return model.functional_loss(dict(learner.module.named_parameters()), batch)


class Learn2LearnAlgorithm(OuterAlgorithm):
    """What both adapters share: the wrapper around the model, the inner loop, the outer Adam step."""

    requires = frozenset({Capability.FUNCTIONAL})

    def __init__(self, options: Learn2LearnOptions, model: TaskModel, settings: Settings) -> None:
        self.options, self.model, self.settings = options, model, settings
        self.meta = self.wrap(functional_modules(model), options.inner_lr or own_inner_lr(model))
        self.optimizer = torch.optim.Adam(self.meta.parameters(), lr=options.outer_lr)

    @abstractmethod
    def wrap(self, modules: nn.ModuleDict, lr: float) -> Any:
        """learn2learn's wrapper of ``modules`` with initial step size ``lr`` (an untyped ``nn.Module``
        with ``clone()`` and ``adapt(loss)``)."""

    @abstractmethod
    def rewrap(self, modules: nn.ModuleDict) -> Any:
        """The same wrapper, with the current step size(s), around another model's networks."""

    def adapted(
        self, model: TaskModel, support: Batch, steps: int, schedule: str, first_order: bool | None = None
    ) -> tuple[Any, list[dict[str, float]]]:
        """A learner after ``steps`` of learn2learn's ``adapt`` on ``support``, and each step's loss."""
        learner = (self.meta if model is self.model else self.rewrap(functional_modules(model))).clone()
        history = []
        for i in range(steps):
            loss = learner_loss(model, learner, support)
            # the run's inner schedule scales each step: adapt steps along the gradient of the scaled loss
            learner.adapt(inner_lr_factor(i, steps, schedule) * loss, first_order=first_order)
            history.append({"loss": loss.item()})
        return learner, history

    def query_loss(self, task: Task) -> Tensor:
        """The query loss after adaptation, differentiable in the meta-parameters (weights, step sizes)."""
        learner, _ = self.adapted(self.model, task.support, self.settings.t, self.settings.inner_schedule)
        return learner_loss(self.model, learner, task.query)

    def step(self, tasks: list[Task], iteration: int) -> dict[str, float]:
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        losses = []
        for task in tasks:
            loss = self.query_loss(task)
            (loss / len(tasks)).backward()
            losses.append(loss.item())
        self.optimizer.step()
        return {"query_loss": sum(losses) / len(losses)}

    def personalize(self, model: TaskModel, support: Batch, steps: int, schedule: str) -> list[dict[str, float]]:
        """This algorithm's inner loop on ``support``, its result written into the model's networks."""
        model.train()
        model.set_support(support)
        learner, history = self.adapted(model, support, steps, schedule, first_order=True)  # no graph to keep
        params = named_parameters(model.networks, model.functional_networks)
        with torch.no_grad():
            for name, value in learner.module.named_parameters():
                params[name].copy_(value)
        return history

    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])


class Learn2LearnMAML(Learn2LearnAlgorithm):
    """learn2learn's MAML (l2l.algorithms.MAML): SGD inner steps, exact meta-gradient; needs 'functional'."""

    def wrap(self, modules: nn.ModuleDict, lr: float) -> Any:
        return MAML(modules, lr=lr, first_order=self.options.first_order)

    def rewrap(self, modules: nn.ModuleDict) -> Any:
        return MAML(modules, lr=self.meta.lr, first_order=self.options.first_order)


class Learn2LearnMetaSGD(Learn2LearnAlgorithm):
    """learn2learn's Meta-SGD (l2l.algorithms.MetaSGD): a learned step size per weight; needs 'functional'."""

    def wrap(self, modules: nn.ModuleDict, lr: float) -> Any:
        return MetaSGD(modules, lr=lr, first_order=self.options.first_order)

    def rewrap(self, modules: nn.ModuleDict) -> Any:
        return MetaSGD(modules, first_order=self.options.first_order, lrs=self.meta.lrs)

    def rates(self) -> dict[str, nn.Parameter]:
        """The learned step sizes, keyed as in ``model.safetensors`` (without ``algorithm.``)."""
        names = [name for name, _ in self.meta.module.named_parameters()]
        return {f"{RATE_PREFIX}{name}": rate for name, rate in zip(names, self.meta.lrs)}

    def meta_tensors(self) -> dict[str, Tensor]:
        return {key: rate.detach() for key, rate in self.rates().items()}

    def load_meta_tensors(self, tensors: dict[str, Tensor]) -> None:
        rates = self.rates()
        wrong = sorted(set(rates) ^ set(tensors)) or [k for k in rates if tensors[k].shape != rates[k].shape]
        if wrong:
            raise UsageError(
                f"l2l-metasgd: the saved step sizes do not fit this model (first mismatch: {wrong[0]}); "
                "build the model with the options the run was made with"
            )
        with torch.no_grad():
            for key, rate in rates.items():
                rate.copy_(tensors[key])

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "rates": {key: rate.clone() for key, rate in self.meta_tensors().items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.load_meta_tensors(state["rates"])  # in place: the optimizer keeps its references to them
        super().load_state_dict(state)

"""Second-order MAML (Finn et al., 2017) through the inner loop that personalization runs.

The inner loop is :func:`metaframe.functional.functional_adapt`: the T iterations of
:func:`metaframe.loop.adapt` — the model's own inner step in its functional form, its own optimizers and
the run's learning-rate schedule — on explicit tensors, so the query loss after them can be
differentiated with respect to the initial weights. The networks differentiated (and meta-learned) are
the model's ``functional_networks``; any other network the model adapts (Pose2Im's discriminator) takes
its inner steps exactly as in ``adapt``, but they enter the meta-gradient as constants. ``describe``
says so in ``run.json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from metaframe.api import (
    Batch,
    Capability,
    OuterAlgorithm,
    Settings,
    Task,
    TaskModel,
    UsageError,
    functional_adapt,
    named_parameters,
)
from metaframe_algorithms.common import outer_optimizer


@dataclass
class MAMLOptions:
    """Options of ``maml`` (``--set algorithm.KEY=VALUE``).

    :param outer_lr: learning rate of the outer optimizer.
    :param outer_optimizer: ``adam`` or ``sgd``.
    :param checkpoint_inner: keep no graph of an inner step; rebuild it in the backward pass
        (:mod:`metaframe.recompute`): memory grows with T only by each step's weights and optimizer
        state, not its activations, for one more first-order inner step per step.
    """

    outer_lr: float = 1e-3
    outer_optimizer: str = "adam"
    checkpoint_inner: bool = False

    # removed in 0.1: MAML meta-trained for another inner loop than the one eval measures
    removed_options: ClassVar[dict[str, str]] = {
        "inner_optimizer": "the inner steps use the model's own inner optimizers (its inner_optimizer_specs); "
        "set their kind and learning rate with the model's options",
        "inner_lr": "the inner learning rate is the model's own; set it with the model's options",
    }

    def __post_init__(self) -> None:
        if self.outer_lr <= 0:
            raise ValueError(f"outer_lr must be positive, got {self.outer_lr}")


def constant_networks(model: TaskModel) -> tuple[str, ...]:
    """The networks the model adapts whose steps MAML does not differentiate; refuses, before step 0, a
    model whose functional declarations do not describe its inner step."""
    adapted = tuple(model.inner_optimizer_specs())
    missing = [name for name in model.functional_networks if name not in adapted]
    if missing or not model.functional_networks:
        raise UsageError(
            f"maml: the model's functional_networks {model.functional_networks} must be among the networks "
            f"its inner step adapts {adapted}; fix the model's declaration"
        )
    constant = tuple(name for name in adapted if name not in model.functional_networks)
    # networks that share the one functional loss step by the default; those outside it take turns
    if constant and type(model).functional_inner_step is TaskModel.functional_inner_step:
        raise UsageError(
            f"maml: {type(model).__name__} adapts {len(adapted)} networks ({', '.join(adapted)}) but has no "
            "functional_inner_step saying how they take turns; the model must define it"
        )
    return constant


class MAML(OuterAlgorithm):
    """Second-order MAML: the meta-gradient through the T inner iterations ``adapt`` runs (second order
    through the steps of the model's functional networks; any other network's steps are constants)."""

    requires = frozenset({Capability.FUNCTIONAL})

    def __init__(self, options: MAMLOptions, model: TaskModel, settings: Settings) -> None:
        self.options, self.model, self.settings = options, model, settings
        self.constant = constant_networks(model)  # also checks the model's declarations before step 0
        self.params = named_parameters(model.networks, model.functional_networks)
        self.optimizer = outer_optimizer(options.outer_optimizer, self.params.values(), options.outer_lr)

    def describe(self) -> dict[str, Any]:
        """Which parts of the inner loop the meta-gradient goes through, and with which optimizers."""
        specs = self.model.inner_optimizer_specs()
        return {
            "differentiated": list(self.model.functional_networks),
            "constant": list(self.constant),
            "inner_loop": "the model's functional_inner_step, the iteration adapt runs, T times with the run's "
            "inner schedule; second order through the differentiated networks' steps, the constant networks' "
            "steps taken as in adapt but not differentiated; query loss: functional_loss at the adapted weights",
            "inner_optimizers": {name: asdict(spec) for name, spec in specs.items()},
            "checkpoint_inner": self.options.checkpoint_inner,
        }

    def adapted(self, support: Batch) -> dict[str, Tensor]:
        """Every adapted network's weights after T inner iterations, differentiable in the initial ones."""
        return functional_adapt(
            self.model,
            support,
            self.settings.t,
            self.settings.inner_schedule,
            differentiate=self.model.functional_networks,
            recompute=self.options.checkpoint_inner,
        )

    def meta_gradient(self, task: Task) -> tuple[list[Tensor], float]:
        """d(query loss after adaptation)/d(initial parameters) for one task, and that query loss."""
        query_loss = self.model.functional_loss(self.adapted(task.support), task.query)
        return list(torch.autograd.grad(query_loss, list(self.params.values()))), query_loss.item()

    def step(self, tasks: list[Task], iteration: int) -> dict[str, float]:
        totals = [torch.zeros_like(p) for p in self.params.values()]
        losses = []
        for task in tasks:
            grads, loss = self.meta_gradient(task)
            for total, grad in zip(totals, grads):
                total.add_(grad, alpha=1 / len(tasks))
            losses.append(loss)
        totals = list(self.reduce_mean(dict(zip(self.params, totals)), len(tasks)).values())  # whole meta-batch
        self.optimizer.zero_grad(set_to_none=True)
        for param, grad in zip(self.params.values(), totals):
            param.grad = grad
        self.optimizer.step()
        return {"query_loss": sum(losses) / len(losses)}

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])

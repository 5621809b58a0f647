"""Second-order MAML (Finn et al., 2017) through the inner loop, on ``torch.func``.

The inner loop is written functionally: the model's :meth:`~metaframe.protocols.TaskModel.functional_loss`
of an explicit parameter dict, gradients with ``create_graph=True`` and a differentiable SGD or Adam
step, so the query loss after T steps can be differentiated with respect to the initial weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from metaframe.config import RunSettings
from metaframe.errors import UsageError
from metaframe.loop import inner_lr_factor
from metaframe.params import DifferentiableAdam, DifferentiableSGD, named_parameters
from metaframe.protocols import FUNCTIONAL, Batch, OuterAlgorithm, Task, TaskModel
from metaframe_algorithms.common import outer_optimizer


@dataclass
class MAMLOptions:
    """Options of ``maml`` (``--set algorithm.KEY=VALUE``).

    :param outer_lr: learning rate of the outer optimizer.
    :param outer_optimizer: ``adam`` or ``sgd``.
    :param inner_optimizer: ``auto`` (the same kind, lr and betas as the model's own inner optimizer),
        ``sgd`` or ``adam``.
    :param inner_lr: overrides the inner learning rate (default: the model's).
    """

    outer_lr: float = 1e-3
    outer_optimizer: str = "adam"
    inner_optimizer: str = "auto"
    inner_lr: float | None = None

    def __post_init__(self) -> None:
        if self.outer_lr <= 0 or (self.inner_lr is not None and self.inner_lr <= 0):
            raise ValueError(f"learning rates must be positive, got outer_lr={self.outer_lr}, inner_lr={self.inner_lr}")


def differentiable_optimizer(model: TaskModel, kind: str, lr: float | None) -> DifferentiableSGD | DifferentiableAdam:
    """A differentiable twin of the model's inner optimizer for its functional networks."""
    own = model.inner_optimizers()[model.functional_networks[0]]
    group = own.param_groups[0]
    if kind == "auto":
        kind = "adam" if isinstance(own, torch.optim.Adam) else "sgd"
    lr = group["lr"] if lr is None else lr
    if kind == "adam":
        return DifferentiableAdam(lr, tuple(group.get("betas", (0.9, 0.999))), group.get("eps", 1e-8))
    if kind == "sgd":
        return DifferentiableSGD(lr)
    raise UsageError(f"algorithm.inner_optimizer must be auto, sgd or adam, got {kind!r}")


class MAML(OuterAlgorithm):
    """Second-order MAML: the exact meta-gradient through T inner steps (torch.func)."""

    requires = frozenset({FUNCTIONAL})

    def __init__(self, options: MAMLOptions, model: TaskModel, settings: RunSettings) -> None:
        self.options, self.model, self.settings = options, model, settings
        self.params = named_parameters(model.networks, model.functional_networks)
        self.inner = differentiable_optimizer(model, options.inner_optimizer, options.inner_lr)
        self.optimizer = outer_optimizer(options.outer_optimizer, self.params.values(), options.outer_lr)

    def adapted(self, support: Batch) -> dict[str, Tensor]:
        """The parameters after T differentiable inner steps from the current ones."""
        fast: dict[str, Tensor] = dict(self.params)
        state = self.inner.init(fast)
        steps = self.settings.t
        for i in range(steps):
            loss = self.model.functional_loss(fast, support)
            grads = torch.autograd.grad(loss, list(fast.values()), create_graph=True)
            fast = self.inner.update(
                fast, dict(zip(fast, grads)), state, inner_lr_factor(i, steps, self.settings.inner_schedule)
            )
        return fast

    def meta_gradient(self, task: Task) -> tuple[list[Tensor], float]:
        """d(query loss after adaptation)/d(initial parameters) for one task, and that query loss."""
        query_loss = self.model.functional_loss(self.adapted(task.support), task.query)
        return list(torch.autograd.grad(query_loss, list(self.params.values()))), query_loss.item()

    def step(self, tasks: list[Task], iteration: int) -> dict[str, float]:
        self.model.train()
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

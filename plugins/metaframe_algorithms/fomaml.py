"""First-order MAML: the query-loss gradient at the adapted weights, applied by an outer optimizer."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from metaframe.api import OuterAlgorithm, Settings, Task, TaskModel, adapt, restore, snapshot
from metaframe_algorithms.common import chosen_networks, mean_logs, outer_optimizer


@dataclass
class FOMAMLOptions:
    """Options of ``fomaml`` (``--set algorithm.KEY=VALUE``).

    :param outer_lr: learning rate of the outer optimizer.
    :param outer_optimizer: ``adam`` or ``sgd``.
    :param networks: networks to meta-learn (empty: all); each is moved by the gradient of its own
        objective (``TaskModel.losses``) on the query set.
    """

    outer_lr: float = 1e-3
    outer_optimizer: str = "adam"
    networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.outer_lr <= 0:
            raise ValueError(f"outer_lr must be positive, got {self.outer_lr}")


class FOMAML(OuterAlgorithm):
    """First-order MAML: the query gradient at the adapted weights, averaged over the meta-batch."""

    def __init__(self, options: FOMAMLOptions, model: TaskModel, settings: Settings) -> None:
        self.options, self.model, self.settings = options, model, settings
        self.networks = chosen_networks(model, options.networks, "fomaml")
        params = [p for name in self.networks for p in model.networks[name].parameters()]
        self.optimizer = outer_optimizer(options.outer_optimizer, params, options.outer_lr)

    def step(self, tasks: list[Task], iteration: int) -> dict[str, float]:
        start = snapshot(self.model.networks)
        grads: dict[str, list[torch.Tensor]] = {}
        logs = []
        for task in tasks:
            restore(self.model.networks, start)
            log = adapt(self.model, task.support, self.settings.t, self.settings.inner_schedule)[-1]
            losses = self.model.losses(task.query)
            for name in self.networks:
                params = list(self.model.networks[name].parameters())
                task_grads = torch.autograd.grad(losses[name], params, retain_graph=True, allow_unused=True)
                summed = grads.setdefault(name, [torch.zeros_like(p) for p in params])
                for total, grad in zip(summed, task_grads):
                    if grad is not None:
                        total.add_(grad, alpha=1 / len(tasks))
            logs.append({**log, **{f"query_{name}": losses[name].item() for name in self.networks}})
        restore(self.model.networks, start)
        flat = {f"{name}.{i}": grad for name in self.networks for i, grad in enumerate(grads[name])}
        flat = self.reduce_mean(flat, len(tasks))  # over the whole meta-batch
        self.optimizer.zero_grad(set_to_none=True)
        for name in self.networks:
            for i, param in enumerate(self.model.networks[name].parameters()):
                param.grad = flat[f"{name}.{i}"]
        self.optimizer.step()
        return mean_logs(logs)

    def state_dict(self) -> dict:
        return {"optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])

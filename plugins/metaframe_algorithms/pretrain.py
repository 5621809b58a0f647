"""Plain joint training over the training tasks: the paper's "Pretrain" baseline.

Each meta-iteration takes T iterations of the model's own inner step on the meta-batch's tasks together
(their examples in one batch), with optimizers that persist across meta-iterations and a constant
learning rate: no meta-learning, the same examples per meta-iteration as the meta-learners. Under
``torchrun`` each process trains on its share and the gradients are averaged before every optimizer
step (:meth:`~metaframe.protocols.OuterAlgorithm.averaged_gradients`), which is data parallelism.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from metaframe.api import Batch, OuterAlgorithm, Settings, Task, TaskModel
from metaframe_algorithms.common import mean_logs


@dataclass
class PretrainOptions:
    """Options of ``pretrain`` (``--set algorithm.KEY=VALUE``).

    :param use_query: also train on each task's query examples (a pretrained model sees all frames of
        its training videos).
    :param steps: iterations per meta-iteration (default: T).
    """

    use_query: bool = True
    steps: int | None = None

    def __post_init__(self) -> None:
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")


class Pretrain(OuterAlgorithm):
    """Plain joint training over training tasks (the paper's Pretrain baseline)."""

    def __init__(self, options: PretrainOptions, model: TaskModel, settings: Settings) -> None:
        self.options, self.model, self.settings = options, model, settings
        self.optimizers = model.inner_optimizers()

    def step(self, tasks: list[Task], iteration: int) -> dict[str, float]:
        self.model.train()
        batch = self.joint_batch(tasks)
        with self.averaged_gradients(self.optimizers.values(), len(tasks)):
            logs = [self.model.inner_step(batch, self.optimizers) for _ in range(self.options.steps or self.settings.t)]
        return mean_logs(logs)

    def joint_batch(self, tasks: list[Task]) -> Batch:
        """The examples of every task in one batch: support, and query with ``use_query``. With tasks of
        equal size a mean loss over it is the mean over tasks, which is what data parallelism averages."""
        parts = [task.support for task in tasks] + ([task.query for task in tasks] if self.options.use_query else [])
        return {key: torch.cat([part[key] for part in parts]) for key in tasks[0].support}

    def state_dict(self) -> dict:
        return {name: optimizer.state_dict() for name, optimizer in self.optimizers.items()}

    def load_state_dict(self, state: dict) -> None:
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state[name])

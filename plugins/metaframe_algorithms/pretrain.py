"""Plain joint training over the training tasks: the paper's "Pretrain" baseline.

Each meta-iteration trains on every task of the meta-batch for T iterations with the model's own inner
step, but with optimizers that persist across tasks and a constant learning rate: no meta-learning,
the same budget of gradient steps as the meta-learners.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from metaframe.api import OuterAlgorithm, RunSettings, Task, TaskModel
from metaframe_algorithms.common import mean_logs


@dataclass
class PretrainOptions:
    """Options of ``pretrain`` (``--set algorithm.KEY=VALUE``).

    :param use_query: also train on each task's query examples (a pretrained model sees all frames of
        its training videos).
    :param steps: iterations per task (default: T, so the budget matches the meta-learners').
    """

    use_query: bool = True
    steps: int | None = None

    def __post_init__(self) -> None:
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")


class Pretrain(OuterAlgorithm):
    """Plain joint training over training tasks (the paper's Pretrain baseline)."""

    def __init__(self, options: PretrainOptions, model: TaskModel, settings: RunSettings) -> None:
        self.options, self.model, self.settings = options, model, settings
        self.optimizers = model.inner_optimizers()

    def step(self, tasks: list[Task], iteration: int) -> dict[str, float]:
        self.model.train()
        logs = []
        for task in tasks:
            batch = task.support
            if self.options.use_query:
                batch = {key: torch.cat([task.support[key], task.query[key]]) for key in task.support}
            for _ in range(self.options.steps or self.settings.t):
                logs.append(self.model.inner_step(batch, self.optimizers))
        return mean_logs(logs)

    def state_dict(self) -> dict:
        return {name: optimizer.state_dict() for name, optimizer in self.optimizers.items()}

    def load_state_dict(self, state: dict) -> None:
        for name, optimizer in self.optimizers.items():
            optimizer.load_state_dict(state[name])

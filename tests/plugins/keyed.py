"""A fixture plugin for the batch contract: a model that reads a batch key only its own task yields.

``depth-regressor`` predicts ``y`` from ``x`` and a per-example ``depth``; task ``depth-sine`` yields
all three. Paired with ``sine`` (which yields ``x`` and ``y`` only) the engine must refuse it before
step 0, in one line naming the model, the task and the missing key.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from metaframe.api import Batch, Register, Task, TaskModel, TaskSampler, hookimpl


class DepthRegressor(TaskModel):
    """y from (x, depth) by one linear layer, SGD."""

    needs_keys = {"x": ("B", 1), "depth": ("B", 1), "y": ("B", 1)}
    metric_goals = {"mse": "min"}

    def __init__(self) -> None:
        super().__init__({"net": nn.Linear(2, 1)})

    def inner_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"net": torch.optim.SGD(self.networks["net"].parameters(), lr=0.05)}

    def inner_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, float]:
        loss = self.losses(batch)["net"]
        optimizers["net"].zero_grad()
        loss.backward()
        optimizers["net"].step()
        return {"loss": loss.item()}

    def losses(self, batch: Batch) -> dict[str, Tensor]:
        prediction = self.networks["net"](torch.cat([batch["x"], batch["depth"]], dim=1))
        return {"net": F.mse_loss(prediction, batch["y"])}

    @torch.no_grad()
    def score(self, batch: Batch) -> dict[str, float]:
        return {"mse": self.losses(batch)["net"].item()}


class DepthSine(TaskSampler):
    """y = A·sin(x)·depth, with the depth of each example in the batch."""

    batch_keys = {"x": ("B", 1), "depth": ("B", 1), "y": ("B", 1)}

    def __init__(self, k: int) -> None:
        self.k = k

    @property
    def info(self) -> dict[str, Any]:
        return {}

    def sample(self, generator: torch.Generator) -> Task:
        amplitude = 0.5 + 4.5 * torch.rand(1, generator=generator).item()
        x = 10 * torch.rand(self.k + 5, 1, generator=generator) - 5
        depth = 0.5 + torch.rand(self.k + 5, 1, generator=generator)
        batch = {"x": x, "depth": depth, "y": amplitude * torch.sin(x) * depth}
        support = {key: value[: self.k] for key, value in batch.items()}
        query = {key: value[self.k :] for key, value in batch.items()}
        return Task(f"depth-sine(A={amplitude:.3f})", support, query, {"amplitude": amplitude})

    def eval_tasks(self) -> list[Task]:
        generator = torch.Generator().manual_seed(7)
        return [self.sample(generator) for _ in range(3)]


@hookimpl
def register_models(register: Register) -> None:
    register("depth-regressor", lambda options, task_info: DepthRegressor(), "y from x and depth (batch-key fixture).")


@hookimpl
def register_tasks(register: Register) -> None:
    register("depth-sine", lambda options, k: DepthSine(k), "Sine tasks whose batches hold a depth (fixture).")

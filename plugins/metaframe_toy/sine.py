"""Task ``sine``: regress y = A sin(x + φ) from K points (amplitude A ∈ [0.1, 5], phase φ ∈ [0, π])."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch

from metaframe.api import Task, TaskSampler


@dataclass
class SineOptions:
    """Options of the ``sine`` task (``--set task.KEY=VALUE``).

    :param amplitude: range of A.
    :param phase: range of φ.
    :param x_range: range of the inputs x.
    :param query: query points per task.
    :param eval_tasks: number of held-out evaluation tasks.
    :param eval_seed: seed of the held-out tasks (a stream separate from training).
    """

    amplitude: tuple[float, float] = (0.1, 5.0)
    phase: tuple[float, float] = (0.0, math.pi)
    x_range: tuple[float, float] = (-5.0, 5.0)
    query: int = 50
    eval_tasks: int = 100
    eval_seed: int = 1_000_003

    def __post_init__(self) -> None:
        for name in ("amplitude", "phase", "x_range"):
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"{name} is a range LOW,HIGH with LOW <= HIGH, got {low},{high}")
        if self.query < 1 or self.eval_tasks < 1:
            raise ValueError(f"query and eval_tasks must be at least 1, got {self.query} and {self.eval_tasks}")


class SineTasks(TaskSampler):
    """Sine regression tasks, K support points each (the classic MAML/Reptile toy)."""

    batch_keys = {"x": ("B", 1), "y": ("B", 1)}

    def __init__(self, options: SineOptions, k: int) -> None:
        self.options = options
        self.k = k

    @property
    def info(self) -> dict[str, Any]:
        return {"in_features": 1, "out_features": 1}

    def sample(self, generator: torch.Generator) -> Task:
        amplitude = uniform(self.options.amplitude, 1, generator).item()
        phase = uniform(self.options.phase, 1, generator).item()
        x = uniform(self.options.x_range, self.k + self.options.query, generator)
        y = amplitude * torch.sin(x + phase)
        support = {"x": x[: self.k], "y": y[: self.k]}
        query = {"x": x[self.k :], "y": y[self.k :]}
        meta = {"amplitude": amplitude, "phase": phase}
        return Task(f"sine(A={amplitude:.3f}, phi={phase:.3f})", support, query, meta)

    def eval_tasks(self) -> list[Task]:
        generator = torch.Generator().manual_seed(self.options.eval_seed)
        return [self.sample(generator) for _ in range(self.options.eval_tasks)]


def uniform(bounds: tuple[float, float], n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` × 1 values drawn uniformly from ``bounds``."""
    low, high = bounds
    return low + (high - low) * torch.rand(n, 1, generator=generator)


def build(options: SineOptions, k: int) -> SineTasks:
    """Sine regression y = A sin(x + φ), K points per task (MAML/Reptile toy)."""
    return SineTasks(options, k)

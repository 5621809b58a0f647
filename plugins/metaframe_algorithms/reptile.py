"""Reptile (Nichol et al., 2018): move the weights towards the task-adapted weights.

θ ← θ + ε(θ̃ − θ), where θ̃ is the result of :func:`metaframe.loop.adapt` on one task, or the mean of
the adapted weights over a meta-batch. MetaPix is Reptile over a GAN's generator and discriminator.
"""

from __future__ import annotations

from dataclasses import dataclass

from metaframe.api import (
    OuterAlgorithm,
    Settings,
    Task,
    TaskModel,
    accumulate,
    adapt,
    interpolate,
    restore,
    scale,
    select,
    snapshot,
)
from metaframe_algorithms.common import chosen_networks, mean_logs


@dataclass
class ReptileOptions:
    """Options of ``reptile`` (``--set algorithm.KEY=VALUE``).

    :param epsilon: the meta step size ε (MetaPix: 1.0).
    :param epsilon_schedule: ``linear`` (decay to 0 over the run, as in MetaPix) or ``constant``.
    :param networks: networks to meta-learn (empty: all); the others are restored after every task,
        e.g. ``networks=generator`` keeps a pretrained discriminator fixed.
    :param buffers: floating-point buffers (e.g. BatchNorm statistics): ``interpolate`` like
        parameters, or ``keep`` their meta-learned values unchanged.
    """

    epsilon: float = 1.0
    epsilon_schedule: str = "linear"
    networks: tuple[str, ...] = ()
    buffers: str = "interpolate"

    def __post_init__(self) -> None:
        if not 0 < self.epsilon <= 1:
            raise ValueError(f"epsilon must be in (0, 1], got {self.epsilon}")
        if self.epsilon_schedule not in ("linear", "constant"):
            raise ValueError(f"epsilon_schedule must be linear or constant, got {self.epsilon_schedule!r}")
        if self.buffers not in ("interpolate", "keep"):
            raise ValueError(f"buffers must be interpolate or keep, got {self.buffers!r}")


class Reptile(OuterAlgorithm):
    """Reptile: θ ← θ + ε(θ̃ − θ), serial or batched; MetaPix's outer algorithm."""

    def __init__(self, options: ReptileOptions, model: TaskModel, settings: Settings) -> None:
        self.options, self.model, self.settings = options, model, settings
        self.networks = chosen_networks(model, options.networks, "reptile")

    def epsilon(self, iteration: int) -> float:
        """ε at ``iteration``: constant, or decayed linearly so that it would reach 0 after the last step."""
        if self.options.epsilon_schedule == "constant":
            return self.options.epsilon
        return self.options.epsilon * (1 - iteration / self.settings.meta_iterations)

    def step(self, tasks: list[Task], iteration: int) -> dict[str, float]:
        start = snapshot(self.model.networks)
        learned = self.learned_keys(start)
        total, logs = None, []
        for task in tasks:
            restore(self.model.networks, start)
            logs.append(adapt(self.model, task.support, self.settings.t, self.settings.inner_schedule)[-1])
            total = accumulate(total, select(snapshot(self.model.networks, self.networks), learned))
        assert total is not None, "a meta-batch holds at least one task"
        target = self.reduce_mean(scale(total, 1 / len(tasks)), len(tasks))  # over the whole meta-batch
        epsilon = self.epsilon(iteration)
        restore(self.model.networks, {**start, **interpolate(select(start, learned), target, epsilon)})
        return {**mean_logs(logs), "epsilon": epsilon}

    def learned_keys(self, state: dict) -> list[str]:
        """State keys that Reptile moves: the chosen networks' parameters (and float buffers, unless kept)."""
        prefixes = tuple(f"{name}." for name in self.networks)
        params = {f"{name}.{key}" for name in self.networks for key, _ in self.model.networks[name].named_parameters()}
        keep_buffers = self.options.buffers == "keep"
        return [key for key in state if key.startswith(prefixes) and (key in params or not keep_buffers)]

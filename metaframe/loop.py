"""The outer loop (:func:`meta_train`) and adaptation, the inner loop's primitive (:func:`adapt`).

Nothing here is specific to any model, task or algorithm; read it top to bottom. Under ``torchrun``
every process runs the same loop on its share of each meta-batch (:mod:`metaframe.distributed`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import torch
from torch.optim.lr_scheduler import LambdaLR

from metaframe import distributed
from metaframe.config import Settings, check_schedule
from metaframe.faults import crash_point

if TYPE_CHECKING:  # names for the annotations only: protocols.py imports this module (the default personalize)
    from metaframe.protocols import Batch, OuterAlgorithm, TaskModel, TaskSampler


def inner_lr_factor(iteration: int, total: int, schedule: str = "hold-then-decay") -> float:
    """Multiplier of the inner learning rate at ``iteration`` (0-based) of ``total``.

    ``hold-then-decay``: constant for the first half, then linear decay towards 0 (a usual
    fine-tuning schedule): with T = 4 the factors are 1, 1, 1, 0.5. ``linear``: decay from the first step.
    ``constant``: always 1. Any other name is a :class:`~metaframe.errors.UsageError`. With T = 0 there is
    no step to scale (1).
    """
    check_schedule(schedule)
    if schedule == "constant":
        return 1.0
    hold = total // 2 if schedule == "hold-then-decay" else 0
    return min(1.0, (total - iteration) / (total - hold)) if total > hold else 1.0  # T = 0: no step to scale


def adapt(
    model: TaskModel, support: Batch, steps: int, schedule: str = "hold-then-decay", *, personal: bool = False
) -> list[dict[str, float]]:
    """Adapt ``model`` in place: ``steps`` of its inner iterations on ``support`` with fresh optimizers.

    The inner loop's primitive (docs/glossary.md, "adaptation"): every built-in outer algorithm's inner
    loop runs it, with :meth:`~metaframe.protocols.TaskModel.inner_optimizers`. Personalizing a trained
    model is the algorithm's hook, :meth:`~metaframe.protocols.OuterAlgorithm.personalize`, whose default
    is this with ``personal=True``: the optimizers of
    :meth:`~metaframe.protocols.TaskModel.personal_optimizers`. Returns the losses of each iteration.
    """
    model.train()
    model.set_support(support)
    optimizers = model.personal_optimizers() if personal else model.inner_optimizers()
    schedulers = [LambdaLR(opt, lambda i: inner_lr_factor(i, steps, schedule)) for opt in optimizers.values()]
    history = []
    for _ in range(steps):
        history.append(model.inner_step(support, optimizers))
        for scheduler in schedulers:
            scheduler.step()
    return history


def iteration_seed(seed: int, iteration: int, rank: int = 0) -> int:
    """The seed of one meta-iteration in process ``rank``: a resumed run replays exactly what an
    uninterrupted one does. Process 0's is a single-process run's; the others' differ (2**40 apart)."""
    return (seed * 1_000_003 + iteration * 7_919 + rank * 2**40 + 1) % 2**62


def meta_train(
    algorithm: OuterAlgorithm,
    model: TaskModel,
    sampler: TaskSampler,
    settings: Settings,
    start: int = 0,
    after_step: Callable[[int, dict[str, float]], None] = lambda iteration, logs: None,
) -> None:
    """Meta-iterations ``start`` … ``settings.meta_iterations - 1``: sample a meta-batch, step, report.

    Every iteration draws its tasks from a generator seeded by (seed, iteration) and reseeds torch with
    (seed, iteration, rank), so a run resumed at any iteration reaches the same weights as one that was
    never interrupted. Every process draws the whole meta-batch (the same tasks as a single process)
    and steps on its share; the algorithm averages over the whole meta-batch through the engine's
    collectives, and the logs are averaged here (after a check that every process holds the same weights).
    """
    for iteration in range(start, settings.meta_iterations):
        generator = torch.Generator().manual_seed(iteration_seed(settings.seed, iteration))
        torch.manual_seed(iteration_seed(settings.seed, iteration, distributed.rank()))
        tasks = [sampler.sample(generator) for _ in range(settings.meta_batch)]
        share = [task.to(model.device) for task in distributed.share(tasks)]
        logs = algorithm.step(share, iteration)
        logs = distributed.merge_step(logs, len(share), model.networks, iteration)  # the same in every process
        crash_point("meta-step")
        after_step(iteration, logs)

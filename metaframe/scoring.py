"""The evaluation protocol: personalize from K support examples for T iterations, score the query set.

Scores are averaged per task (over a task's query set) and then over tasks, so that every held-out
task weighs the same whatever the size of its query set. Under ``torchrun`` each process scores its
share of the tasks and every process gets all the rows, in task order; task ``i`` is personalized with
seed ``seed + i`` in whichever process scores it, so the rows do not depend on the number of processes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from metaframe import distributed
from metaframe.loop import adapt
from metaframe.params import State, restore, snapshot
from metaframe.protocols import Batch, Task, TaskModel
from metaframe.references import Reference

Personalize = Callable[[TaskModel, Batch, int, str], Any]  # (model, support, steps, schedule)


def personalize_and_score(
    model: TaskModel,
    tasks: list[Task],
    steps: int,
    schedule: str = "hold-then-decay",
    seed: int = 0,
    on_task: Callable[[int], None] = lambda index: None,
    personalize: Personalize = adapt,
) -> list[dict[str, Any]]:
    """Score each task after adapting the current weights to it with ``personalize`` (an algorithm's
    rule, :meth:`OuterAlgorithm.personalize`; default :func:`adapt`); the weights are restored afterwards.
    ``on_task`` is called after each task this process scores."""
    start: State = snapshot(model.networks)

    def score(index: int, task: Task) -> dict[str, Any]:
        restore(model.networks, start)
        torch.manual_seed(seed + index)
        task = task.to(model.device)
        personalize(model, task.support, steps, schedule)
        model.train(False)
        return {"task": task.name, **model.score(task.query)}

    rows = spread(tasks, score, on_task)
    restore(model.networks, start)
    return rows


def spread(
    tasks: list[Task], score: Callable[[int, Task], dict[str, Any]], on_task: Callable[[int], None]
) -> list[dict[str, Any]]:
    """``score(index, task)`` for this process's share of ``tasks``; every process's rows, in task order."""
    rows = []
    for index, task in distributed.share(list(enumerate(tasks))):
        rows.append((index, score(index, task)))
        on_task(index)
    return [row for _, row in sorted(distributed.gather(rows), key=lambda pair: pair[0])]


def score_reference(
    model: TaskModel, tasks: list[Task], reference: Reference, on_task: Callable[[int], None] = lambda index: None
) -> list[dict[str, Any]]:
    """Score a non-learned reference's predictions of each task's query set with the model's metrics."""

    def score(index: int, task: Task) -> dict[str, Any]:
        task = task.to(model.device)
        return {"task": task.name, **model.score_predictions(reference(task.support, task.query), task.query)}

    return spread(tasks, score, on_task)


def mean_scores(rows: list[dict[str, Any]]) -> dict[str, float]:
    """The mean of every numeric metric over the per-task rows."""
    keys = [key for key, value in rows[0].items() if isinstance(value, int | float)]
    return {key: sum(row[key] for row in rows) / len(rows) for key in keys}


def personalized_picture(
    model: TaskModel, task: Task, steps: int, schedule: str = "hold-then-decay", personalize: Personalize = adapt
) -> torch.Tensor:
    """The model's picture of ``task``'s query set after personalization; the weights are restored."""
    start = snapshot(model.networks)
    task = task.to(model.device)
    personalize(model, task.support, steps, schedule)
    model.train(False)
    picture = model.render_samples(task.query)
    restore(model.networks, start)
    return picture

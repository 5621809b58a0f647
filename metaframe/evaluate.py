"""The evaluation protocol: personalize from K support examples for T iterations, score the query set.

Scores are averaged per task (over a task's query set) and then over tasks, so that every held-out
task weighs the same whatever the size of its query set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

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
    rule, :meth:`OuterAlgorithm.personalize`; default :func:`adapt`); the weights are restored afterwards."""
    start: State = snapshot(model.networks)
    rows = []
    for index, task in enumerate(tasks):
        restore(model.networks, start)
        torch.manual_seed(seed + index)
        task = task.to(model.device)
        personalize(model, task.support, steps, schedule)
        model.train(False)
        rows.append({"task": task.name, **model.score(task.query)})
        on_task(index)
    restore(model.networks, start)
    return rows


def score_reference(
    model: TaskModel, tasks: list[Task], reference: Reference, on_task: Callable[[int], None] = lambda index: None
) -> list[dict[str, Any]]:
    """Score a non-learned reference's predictions of each task's query set with the model's metrics."""
    rows = []
    for index, task in enumerate(tasks):
        task = task.to(model.device)
        rows.append({"task": task.name, **model.score_images(reference(task.support, task.query), task.query)})
        on_task(index)
    return rows


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

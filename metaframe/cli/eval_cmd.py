"""``metaframe eval``: personalize each init on the held-out tasks and score the query sets
(:func:`metaframe.evaluate`), then print one row per init."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from metaframe import distributed
from metaframe.checkpoint import write_json
from metaframe.cli.options import (
    ConfigOption,
    DeviceOption,
    EvalKOption,
    EvalSeedOption,
    EvalTOption,
    JsonOption,
    ModelOption,
    PresetOption,
    SetOption,
    TaskOption,
    check_json_out,
)
from metaframe.evaluation import Row, evaluate, not_learned
from metaframe.output import console


def short_init(init: str, parts: int = 0) -> str:
    """An init as the table shows it: a weights file by its name, a run folder by its last two path parts
    (``parts`` more when that is not enough to tell it from another row's)."""
    path = Path(init)
    if init in not_learned():
        return init
    return "/".join(path.parts[-(parts + (1 if path.is_file() else 2)) :])


def short_inits(inits: list[str]) -> list[str]:
    """Each init's short form, lengthened where two would read the same (``a/model.safetensors``,
    ``b/model.safetensors``)."""
    depth = [0] * len(inits)
    while True:
        labels = [short_init(init, extra) for init, extra in zip(inits, depth, strict=True)]
        clashing = [i for i, label in enumerate(labels) if labels.count(label) > 1 and inits[i] != label]
        longer = [i for i in clashing if short_init(inits[i], depth[i] + 1) != labels[i]]
        if not longer:
            return labels
        for i in longer:
            depth[i] += 1


def header(metric: str, scopes: dict[str, str]) -> str:
    """A metric's column header: a scope prefix the model names shrinks to its initial (``p.ssim`` for
    ``person_ssim``), so that the table fits an 80-column terminal."""
    scope = next((prefix for prefix in scopes if metric.startswith(prefix)), None)
    return metric if scope is None else f"{scope[0]}.{metric.removeprefix(scope)}"


def show(rows: list[Row]) -> None:
    """The results as a table, one row per init, arrows saying which way is better; the legend under it
    says what the shortened headers mean and which metrics only the JSON holds."""
    first = rows[0]
    steps = f"T={first.t}" if first.t else "T=0: not personalized"
    table = Table(title=f"personalization on held-out tasks (K={first.k}, {steps})")
    goals, scopes = first.goals, first.scopes
    metrics = [m for m in first.metrics if goals.get(m) != "info"] or list(first.metrics)
    arrows = {"min": "↓", "max": "↑"}
    table.add_column("init", overflow="fold")
    for metric in metrics:
        table.add_column(header(metric, scopes) + arrows.get(goals.get(metric, ""), ""), justify="right")
    for row, label in zip(rows, short_inits([row.init for row in rows]), strict=True):
        table.add_row(label, *(f"{row.metrics[m]:.4g}" for m in metrics))
    console.print(table)
    legend = ["↑ higher is better, ↓ lower is better"]
    for prefix, meaning in scopes.items():
        if any(metric.startswith(prefix) for metric in metrics):
            legend.append(f"{prefix[0]}.: {meaning}")
    hidden = [m for m in first.metrics if m not in metrics]
    if hidden:
        legend.append(f"also in --json: {', '.join(hidden)}")
    for line in legend:
        console.print(line, style="dim")


def evaluate_command(
    inits: Annotated[
        list[str],
        typer.Option(
            "--init",
            metavar="INIT",
            help="A run folder, a .safetensors file, 'random' (fresh weights), or a reference that learns "
            "nothing, for models with the 'predictions' capability: one a plugin registers (`metaframe "
            "plugins` lists them under references, each with what it predicts). Repeatable: one row each.",
        ),
    ],
    model: ModelOption = None,
    task: TaskOption = None,
    k: EvalKOption = None,
    t: EvalTOption = None,
    seed: EvalSeedOption = None,
    preset: PresetOption = None,
    config: ConfigOption = None,
    assignments: SetOption = None,
    device: DeviceOption = None,
    json_out: JsonOption = None,
) -> None:
    """Personalize each --init on every held-out task from K support examples for T iterations, then
    score the task's query set; prints one row per init (metrics averaged per task, then over tasks).

    The first --init that is a run folder gives the defaults: its model, task, K, T, seed and options."""
    check_json_out(json_out)
    scores = evaluate(
        inits,
        model=model,
        task=task,
        k=k,
        t=t,
        seed=seed,
        preset=preset,
        config=config,
        overrides=assignments or [],
        device=device,
        show_progress=True,
    )
    show(scores.rows)
    if json_out and distributed.is_writer():
        write_json(json_out, scores.to_json())

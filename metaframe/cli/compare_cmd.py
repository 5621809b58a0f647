"""``metaframe compare``: meta-train several algorithms on the same budget, then evaluate them all
(:func:`metaframe.compare`), and print one table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from metaframe import distributed
from metaframe.checkpoint import write_json
from metaframe.cli.eval_cmd import show
from metaframe.cli.options import (
    LISTED,
    ConfigOption,
    DeviceOption,
    InitOption,
    JsonOption,
    KOption,
    MetaBatchOption,
    MetaIterationsOption,
    ModelOption,
    QuietOption,
    SeedOption,
    SetOption,
    TaskOption,
    TOption,
    check_json_out,
)
from metaframe.comparison import check_request, compare


def compare_command(
    algorithms: Annotated[
        list[str], typer.Argument(help=f"Outer algorithms to compare, by registered name ({LISTED}).")
    ],
    model: ModelOption = None,
    task: TaskOption = None,
    config: ConfigOption = None,
    assignments: SetOption = None,
    meta_iterations: MetaIterationsOption = None,
    meta_batch: MetaBatchOption = None,
    k: KOption = None,
    t: TOption = None,
    init: InitOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for one run folder per algorithm (default: runs/compare-MODEL-TASK-TIME)."),
    ] = None,
    seed: SeedOption = None,
    device: DeviceOption = None,
    no_random: Annotated[
        bool, typer.Option("--no-random", metavar="", help="Leave out the row of a randomly initialized model.")
    ] = False,
    json_out: JsonOption = None,
    quiet: QuietOption = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            metavar="",
            help="Continue the comparison in --out: finished runs are kept, the others resume or start; give "
            "the same algorithms and options as the first time.",
        ),
    ] = False,
) -> None:
    """Meta-train MODEL on TASK with each ALGORITHM on the same budget (meta-iterations × meta-batch × T
    inner iterations, same seed), then personalize each result on the held-out tasks and print one table.

    Every algorithm is checked against the model and every run folder before the first one trains.
    Interrupted? Run the same command with --resume."""
    check_request(algorithms, model, task)
    check_json_out(json_out)
    comparison = compare(
        algorithms,
        model=model,
        task=task,
        config=config,
        overrides=assignments or [],
        meta_iterations=meta_iterations,
        meta_batch=meta_batch,
        k=k,
        t=t,
        init=init,
        out=out,
        seed=seed,
        device=device,
        random=not no_random,
        resume=resume,
        show_progress=not quiet,
    )
    show(comparison.scores.rows)
    if json_out and distributed.is_writer():
        write_json(json_out, comparison.scores.to_json())

"""``metaframe reproduce``: run a registered experiment (a paper's evaluation) end to end, with a report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from metaframe import distributed
from metaframe.cli.options import DeviceOption, QuietOption
from metaframe.errors import UsageError
from metaframe.experiment import Request, finished, select
from metaframe.output import console
from metaframe.plugins import Plugins, get_plugins
from metaframe.reproduce import planned, reproduce


def whole_numbers(text: str | None, flag: str) -> tuple[int, ...] | None:
    """``1,5,10`` as positive integers; anything else is refused in one line."""
    if text is None:
        return None
    values = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise UsageError(f"{flag}: {part!r} is not a positive whole number; give a list such as 1,5,10,20")
        values.append(int(part))
    if len(set(values)) != len(values):
        raise UsageError(f"{flag}: {text} names a value twice; give each once")
    return tuple(values)


def show_list(plugins: Plugins) -> None:
    """The registered experiments and their scales."""
    table = Table(title="experiments")
    for column in ("name", "plugin", "scales", "summary"):
        table.add_column(column)
    for entry in plugins.experiments:
        scales = ", ".join(entry.factory().scales)
        table.add_row(entry.name, entry.plugin, scales, entry.summary)
    console.print(table)


def show_plan(plugins: Plugins, request: Request, out: Path, patterns: list[str]) -> None:
    """The stages of ``request`` in the order they run, and which are finished in ``out``."""
    _, _, _, stages = planned(plugins, request, out, None, False)
    chosen = {stage.name for stage in select(stages, patterns)} if patterns else None
    table = Table(title=f"{request.experiment} --scale {request.scale}: {len(stages)} stages in {out}")
    table.add_column("#", justify="right")
    table.add_column("stage", no_wrap=True)
    table.add_column("what")
    table.add_column("state", no_wrap=True)
    for number, stage in enumerate(stages, start=1):
        if finished(out, stage) is not None:
            state = "finished"
        elif chosen is None or stage.name in chosen:
            state = "to run"
        else:
            state = "not in --only"
        table.add_row(str(number), stage.name, stage.about, state)
    console.print(table)


def reproduce_command(
    experiment: Annotated[
        str | None,
        typer.Argument(help="The experiment to run, by registered name (--list shows them).", show_default=False),
    ] = None,
    scale: Annotated[
        str | None,
        typer.Option("--scale", help="How big: the experiment's scales (--list); default its first, e.g. small."),
    ] = None,
    seeds: Annotated[
        int, typer.Option("--seeds", min=1, help="Repeat the seeded stages with seeds 1..N (mean ± std over them).")
    ] = 1,
    ks: Annotated[
        str | None,
        typer.Option(
            "--ks", metavar="K,K,...", help="K values of the sweep over support-set size (default: the scale's)."
        ),
    ] = None,
    ts: Annotated[
        str | None,
        typer.Option("--ts", metavar="T,T,...", help="T values of the sweep over personalization iterations."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder of the stages and report.md (default: runs/reproduce-NAME-SCALE)."),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", metavar="", help="List the registered experiments and exit.")
    ] = False,
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            metavar="PATTERN,...",
            help="Run only the stages whose names match one of these shell-style patterns (e.g. "
            "`score-*-t40-*,metapix-k20`), and the stages they use; the rest wait for a run without --only. "
            "--plan lists the names.",
        ),
    ] = None,
    plan: Annotated[
        bool,
        typer.Option("--plan", metavar="", help="List the stages (name, what, finished or not) and run nothing."),
    ] = False,
    report: Annotated[
        bool,
        typer.Option(
            "--report",
            metavar="",
            help="Write report.md from the stages finished so far (e.g. while a long reproduction runs) and "
            "run nothing.",
        ),
    ] = False,
    device: DeviceOption = None,
    quiet: QuietOption = False,
) -> None:
    """Run EXPERIMENT's stages — trainings (run folders), evaluations and renders — then write report.md
    in --out with its tables, figures, exact commands, versions, seeds and wall times.

    Interrupted or crashed? Run the same command again: finished stages are skipped and a training
    continues from its last checkpoint. --plan lists the stages; --only runs some of them first (a
    figure, say) and the same command without --only finishes the rest. The experiments come from
    plugins (the register_experiments hook; docs/reference/experiments.md); --list shows what is
    installed."""
    plugins = get_plugins()
    if list_:
        show_list(plugins)
        return
    if experiment is None:
        raise UsageError("name the experiment to run (`metaframe reproduce --list` shows them)")
    if distributed.world_size() > 1:
        raise UsageError("reproduce runs its stages in one process; run it without torchrun")
    entry = plugins.experiments.get(experiment)
    made = entry.factory()
    scale = scale or made.scales[0]
    if scale not in made.scales:
        raise UsageError(f"unknown scale {scale!r} for experiment {experiment}; choose {', '.join(made.scales)}")
    default_ks, default_ts = made.sweeps(scale)
    request = Request(
        experiment,
        scale,
        tuple(range(1, seeds + 1)),
        whole_numbers(ks, "--ks") or default_ks,
        whole_numbers(ts, "--ts") or default_ts,
    )
    out = out or Path("runs") / f"reproduce-{experiment}-{scale}"
    patterns = [part.strip() for part in only.split(",") if part.strip()] if only is not None else []
    if only is not None and not patterns:
        raise UsageError("--only: give stage names or patterns, e.g. --only 'score-*-t40-*'")
    if plan:
        show_plan(plugins, request, out, patterns)
        return
    written = reproduce(plugins, request, out, device, not quiet, sys.argv[1:], report_only=report, only=patterns)
    console.print(f"\n[bold green]{'report' if report else 'done'}[/]: {written}")

"""``metaframe reproduce``: run a registered experiment (a paper's evaluation) end to end, with a report
(:func:`metaframe.reproduce`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from metaframe.cli.options import DeviceOption, QuietOption
from metaframe.experiment import Request, finished, select
from metaframe.output import console
from metaframe.plugins import Plugins, get_plugins
from metaframe.reproduction import default_out, patterns_of, reproduce, request_of
from metaframe.stages import planned


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
    request = request_of(plugins, experiment, scale, seeds, ks, ts)
    out = out or default_out(request)
    patterns = patterns_of(only)
    if plan:
        show_plan(plugins, request, out, patterns)
        return
    written = reproduce(
        request.experiment,
        scale=request.scale,
        seeds=seeds,
        ks=request.ks,
        ts=request.ts,
        out=out,
        only=patterns or None,
        report_only=report,
        device=device,
        show_progress=not quiet,
        plugins=plugins,
        argv=sys.argv[1:],
    )
    console.print(f"\n[bold green]{'report' if report else 'done'}[/]: {written}")

"""``metaframe compare``: meta-train several algorithms on the same budget, then evaluate them all."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress

from metaframe import distributed
from metaframe.checkpoint import write_json
from metaframe.cli.eval_cmd import RANDOM, score_init, show
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
    announce,
    check_json_out,
    resolve,
)
from metaframe.cli.run_cmd import default_out
from metaframe.config import RunConfig, differences
from metaframe.errors import UsageError
from metaframe.output import console_err, say
from metaframe.plugins import Plugins, get_plugins
from metaframe.rundir import RunDir
from metaframe.runner import resume_run, start_run, train
from metaframe.session import build_algorithm, build_session


def check_all(plugins: Plugins, configs: list[RunConfig], out: Path, resume: bool) -> None:
    """Before anything trains: every algorithm accepts the model, and every run folder can be written
    (or, with ``--resume``, holds the run of that algorithm)."""
    session = build_session(configs[0], plugins, load=False)
    for config in configs:
        build_algorithm(dataclasses.replace(session, config=config), plugins)
        folder = RunDir(out / config.algorithm)
        if resume and folder.config.is_file():
            changed = differences(folder.run_config(), config, ignore=("device",))
            if changed:
                raise UsageError(
                    f"--resume: {folder.path} has {changed[0]}; give the options the comparison started with"
                )
        else:
            folder.check_new()
    session.sampler.close()


def compare(
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
    if len(set(algorithms)) != len(algorithms):
        raise UsageError("each algorithm may be named once")
    if model is None or task is None:
        raise UsageError("give --model and --task, the same for every algorithm (`metaframe plugins` lists them)")
    check_json_out(json_out)
    plugins = get_plugins()
    explicit: dict[str, Any] = {
        "meta_iterations": meta_iterations,
        "meta_batch": meta_batch,
        "k": k,
        "t": t,
        "seed": seed,
        "device": device,
    }
    configs = [resolve(plugins, name, model, task, None, config, assignments, explicit) for name in algorithms]
    budgets = {(c.settings.meta_iterations, c.settings.meta_batch, c.settings.k, c.settings.t) for c in configs}
    if len(budgets) > 1:
        raise UsageError(
            "the presets give the algorithms different budgets; fix them with --meta-iterations, --meta-batch, --k, --t"
        )
    if resume and out is None:
        raise UsageError("--resume needs --out, the folder of the comparison to continue")
    out = out or default_out("compare", model, task)
    with distributed.together():  # under torchrun: a refusal stops every process
        check_all(plugins, configs, out, resume)
    inits = []
    for resolved in configs:
        folder = out / resolved.algorithm
        inits.append(str(folder))
        if resume and RunDir(folder).config.is_file():
            if RunDir(folder).read_config().get("status") == "finished":
                say(f"[bold]{resolved.algorithm}[/]: finished already in {folder}")
                continue
            run = resume_run(plugins, folder, device)
        else:
            run = start_run(resolved, plugins, folder, init)
        say(f"[bold]{resolved.algorithm}[/] → {folder}")
        announce(plugins, run.session.config, run.session.model)
        train(run, show_progress=not quiet)
    if not no_random:
        inits.append(RANDOM)
    with Progress(console=console_err, transient=True, disable=quiet) as progress:
        rows = [score_init(configs[0], name, progress) for name in inits]
    show(rows)
    if distributed.is_writer():
        write_json(out / "compare.json", {"rows": rows})
        if json_out:
            write_json(json_out, {"rows": rows})

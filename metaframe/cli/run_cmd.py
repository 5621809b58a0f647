"""``metaframe run``: meta-train a model on a family of tasks with an outer algorithm."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from metaframe.cli.options import (
    LISTED,
    ConfigOption,
    DeviceOption,
    InitOption,
    KOption,
    MetaBatchOption,
    MetaIterationsOption,
    ModelOption,
    PresetOption,
    QuietOption,
    SeedOption,
    SetOption,
    TaskOption,
    TOption,
    announce,
    resolve,
)
from metaframe.config import differences
from metaframe.errors import UsageError
from metaframe.output import console
from metaframe.plugins import Plugins, get_plugins
from metaframe.protocols import IMAGES
from metaframe.rundir import RunDir
from metaframe.runner import resume_run, start_run, train

RESUME_RULE = "only --meta-iterations (to extend it) and --device may change; start a new run for the rest"


def default_out(algorithm: str, model: str, task: str) -> Path:
    """``runs/ALGORITHM-MODEL-TASK-YYYYmmdd-HHMMSS``."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{algorithm}-{model}-{task}-{stamp}"


def check_unchanged(
    plugins: Plugins,
    out: Path,
    algorithm: str,
    model: str | None,
    task: str | None,
    preset: str | None,
    config_file: Path | None,
    assignments: list[str] | None,
    explicit: dict[str, Any],
    init: Path | None,
) -> None:
    """``--resume`` continues a run as it was configured: refuse, naming it, any option that says
    otherwise (``--meta-iterations`` and ``--device`` may change; they are not checked here)."""
    if init is not None:
        raise UsageError("--init cannot be given with --resume: a resumed run continues from its own checkpoint")
    stored = RunDir(out).run_config()
    inherited = {**stored.to_json()["settings"], **stored.options}
    wanted = resolve(
        plugins,
        algorithm,
        model or stored.model,
        task or stored.task,
        preset or stored.preset,
        config_file,
        assignments,
        explicit,
        inherited,
    )
    if preset is None:  # a preset installed since the run started does not change it
        wanted.preset = stored.preset
    changed = differences(stored, wanted, ignore=("meta_iterations", "device"))
    if changed:
        raise UsageError(f"--resume: the run in {out} has {changed[0]}; {RESUME_RULE}")


def run(
    algorithm: Annotated[str, typer.Argument(help=f"Outer algorithm, by registered name ({LISTED}).")],
    model: ModelOption = None,
    task: TaskOption = None,
    preset: PresetOption = None,
    config: ConfigOption = None,
    assignments: SetOption = None,
    meta_iterations: MetaIterationsOption = None,
    meta_batch: MetaBatchOption = None,
    k: KOption = None,
    t: TOption = None,
    init: InitOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Run folder to write (default: runs/ALGORITHM-MODEL-TASK-TIME).")
    ] = None,
    seed: SeedOption = None,
    device: DeviceOption = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            metavar="",
            help="Continue the run in --out from its last checkpoint, as it was configured (only "
            "--meta-iterations, to extend it, and --device may change).",
        ),
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Meta-train MODEL on TASK with ALGORITHM and write the run folder.

    The folder holds model.safetensors (meta-learned weights), run.json (configuration and provenance),
    metrics.jsonl, resume.pt and, for models that draw, samples/*.png.

    With --resume, every setting (model and task included) is the run's own.

    Under torchrun (torchrun --nproc_per_node N -m metaframe run ...) N processes share each meta-batch
    and process 0 writes the folder: docs/howto/distributed.md.
    """
    plugins = get_plugins()
    explicit: dict[str, Any] = {"meta_batch": meta_batch, "k": k, "t": t, "seed": seed}
    if resume:
        if out is None:
            raise UsageError("--resume needs --out RUN_DIR, the folder of the run to continue")
        check_unchanged(plugins, out, algorithm, model, task, preset, config, assignments, explicit, init)
        run = resume_run(plugins, out, device, meta_iterations)
    else:
        if model is None or task is None:
            raise UsageError("give --model and --task (see `metaframe plugins` for what is installed)")
        explicit.update(meta_iterations=meta_iterations, device=device)
        resolved = resolve(plugins, algorithm, model, task, preset, config, assignments, explicit)
        out = out or default_out(algorithm, model, task)
        run = start_run(resolved, plugins, out, init)
    announce(plugins, run.session.config, run.session.model)
    rundir = train(run, show_progress=not quiet)
    session = run.session
    settings = session.config.settings
    console.print(f"\n[bold green]done[/]: weights in {rundir.weights}, metrics in {rundir.metrics}")
    # a model that scores images is read against the predictors that learn nothing
    baselines = "--init copy-nearest --init mean-support" if IMAGES in session.model.capabilities else "--init random"
    console.print(
        f"next: [bold]metaframe eval --init {out} {baselines} --k {settings.k} --t {settings.t}[/]"
        f"  (personalize on held-out tasks and score them)"
    )

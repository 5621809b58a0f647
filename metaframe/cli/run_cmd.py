"""``metaframe run``: meta-train a model on a family of tasks with an outer algorithm."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import typer

from metaframe.cli.options import CONFIG_HELP, DEVICE_HELP, PRESET_HELP, SET_HELP, announce, resolve
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
    assignments: list[str],
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
    algorithm: str = typer.Argument(..., help="Outer algorithm: reptile, fomaml, maml, pretrain or a plugin's."),
    model: str = typer.Option(None, "--model", "-m", help="Task model to meta-train, e.g. pose2im or mlp."),
    task: str = typer.Option(None, "--task", help="Task family to sample from, e.g. video-shot or sine."),
    preset: str = typer.Option(None, "--preset", help=PRESET_HELP),
    config: Path = typer.Option(None, "--config", help=CONFIG_HELP, dir_okay=False),
    assignments: list[str] = typer.Option([], "--set", help=SET_HELP),
    meta_iterations: int = typer.Option(None, "--meta-iterations", min=1, help="Number of outer steps."),
    meta_batch: int = typer.Option(None, "--meta-batch", min=1, help="Tasks per outer step (Reptile averages them)."),
    k: int = typer.Option(None, "--k", min=1, help="Support examples per task (the paper's K)."),
    t: int = typer.Option(None, "--t", min=1, help="Inner (personalization) iterations per task (the paper's T)."),
    init: Path = typer.Option(None, "--init", help="Start from these weights: a run folder or a .safetensors file."),
    out: Path = typer.Option(None, "--out", help="Run folder to write (default: runs/ALGORITHM-MODEL-TASK-TIME)."),
    seed: int = typer.Option(None, "--seed", help="Seed of task sampling and initialization (default 0)."),
    device: str = typer.Option(None, "--device", help=DEVICE_HELP),
    resume: bool = typer.Option(
        False,
        "--resume",
        metavar="",
        help="Continue the run in --out from its last checkpoint, as it was configured (only --meta-iterations, "
        "to extend it, and --device may change).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", metavar="", help="No progress bar."),
) -> None:
    """Meta-train MODEL on TASK with ALGORITHM and write the run folder.

    The folder holds model.safetensors (meta-learned weights), run.json (configuration and provenance),
    metrics.jsonl, resume.pt and, for models that draw, samples/*.png.

    Under torchrun (torchrun --nproc_per_node N -m metaframe run ...) N processes share each meta-batch
    and process 0 writes the folder: docs/howto/distributed.md.
    """
    plugins = get_plugins()
    explicit = {"meta_batch": meta_batch, "k": k, "t": t, "seed": seed}
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

"""``metaframe run``: meta-train a model on a family of tasks with an outer algorithm."""

from __future__ import annotations

import datetime
from pathlib import Path

import typer

from metaframe.cli.options import CONFIG_HELP, DEVICE_HELP, PRESET_HELP, SET_HELP, resolve
from metaframe.errors import UsageError
from metaframe.output import console
from metaframe.plugins import get_plugins
from metaframe.protocols import IMAGES
from metaframe.runner import resume_run, start_run, train


def default_out(algorithm: str, model: str, task: str) -> Path:
    """``runs/ALGORITHM-MODEL-TASK-YYYYmmdd-HHMMSS``."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{algorithm}-{model}-{task}-{stamp}"


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
        False, "--resume", help="Continue the interrupted run in --out from its last checkpoint."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
) -> None:
    """Meta-train MODEL on TASK with ALGORITHM and write the run folder.

    The folder holds model.safetensors (meta-learned weights), run.json (configuration and provenance),
    metrics.jsonl, resume.pt and, for models that draw, samples/*.png.
    """
    plugins = get_plugins()
    if resume:
        if out is None:
            raise UsageError("--resume needs --out RUN_DIR, the folder of the run to continue")
        session, outer, start = resume_run(plugins, out, device)
    else:
        if model is None or task is None:
            raise UsageError("give --model and --task (see `metaframe plugins` for what is installed)")
        explicit = {
            "meta_iterations": meta_iterations,
            "meta_batch": meta_batch,
            "k": k,
            "t": t,
            "seed": seed,
            "device": device,
        }
        resolved = resolve(plugins, algorithm, model, task, preset, config, assignments, explicit)
        out = out or default_out(algorithm, model, task)
        session, outer, start = start_run(resolved, plugins, out, init)
    rundir = train(session, outer, out, start, show_progress=not quiet)
    settings = session.config.settings
    console.print(f"\n[bold green]done[/]: weights in {rundir.weights}, metrics in {rundir.metrics}")
    # a model that scores images is read against the predictors that learn nothing
    baselines = "--init copy-nearest --init mean-support" if IMAGES in session.model.capabilities else "--init random"
    console.print(
        f"next: [bold]metaframe eval --init {out} {baselines} --k {settings.k} --t {settings.t}[/]"
        f"  (personalize on held-out tasks and score them)"
    )

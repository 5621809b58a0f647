"""Meta-training a run end to end: folder, build, resume, loop, checkpoints, samples, report."""

from __future__ import annotations

import datetime
import sys
import time
from pathlib import Path
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from metaframe import __version__
from metaframe.checkpoint import load_into
from metaframe.config import RunConfig
from metaframe.errors import UsageError
from metaframe.evaluate import personalized_picture
from metaframe.loop import meta_train
from metaframe.output import console_err, say
from metaframe.plugins import Plugins
from metaframe.progress import LogLines
from metaframe.protocols import SAMPLES, OuterAlgorithm
from metaframe.rundir import RunDir
from metaframe.session import Session, build_algorithm, build_session, provenance


def weights_file(init: Path) -> Path:
    """A run folder's ``model.safetensors``, or ``init`` itself when it is a file."""
    return RunDir(init).weights if init.is_dir() else init


def start_run(config: RunConfig, plugins: Plugins, out: Path, init: Path | None) -> tuple[Session, OuterAlgorithm, int]:
    """A fresh run: build everything, load ``init`` weights, write ``run.json``."""
    rundir = RunDir(out)
    rundir.create(resume=False)
    session = build_session(config, plugins)
    if init is not None:
        load_into(session.model, weights_file(init))
    algorithm = build_algorithm(session, plugins)
    record = {
        "config": config.to_json(),
        "init": str(init) if init else None,
        "provenance": provenance(plugins, config, session.model),
        "metaframe": __version__,
        "command": sys.argv,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "status": "running",
        "iteration": 0,
    }
    rundir.write_config(record)
    return session, algorithm, 0


def resume_run(plugins: Plugins, out: Path, device: str | None) -> tuple[Session, OuterAlgorithm, int]:
    """Continue the run in ``out`` from its last checkpoint, with the configuration it started with."""
    rundir = RunDir(out)
    rundir.create(resume=True)
    config = RunConfig.from_json(rundir.read_config()["config"])
    if device is not None:
        config.settings.device = device
    session = build_session(config, plugins)
    algorithm = build_algorithm(session, plugins)
    state = rundir.load_checkpoint()
    load_into(session.model, rundir.weights)
    algorithm.load_state_dict(state["algorithm"])
    rundir.truncate_metrics(state["iteration"])
    say(f"resuming {out} at meta-iteration {state['iteration']} of {config.settings.meta_iterations}")
    return session, algorithm, state["iteration"]


def train(session: Session, algorithm: OuterAlgorithm, out: Path, start: int, show_progress: bool = True) -> RunDir:
    """Run the remaining meta-iterations with a progress bar, checkpoints, metrics and samples."""
    rundir, settings = RunDir(out), session.config.settings
    live = console_err.is_terminal
    progress = Progress(
        TextColumn("meta-iteration"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console_err,
        disable=not (show_progress and live),
    )
    bar = progress.add_task("meta", total=settings.meta_iterations, completed=start, status="")
    # a live bar shows nothing in a log file: there, plain lines every few iterations or 30 s
    lines = LogLines("meta-iteration", settings.meta_iterations, start) if show_progress and not live else None
    clock = [time.perf_counter(), start]

    def after_step(iteration: int, logs: dict[str, float]) -> None:
        done = iteration + 1
        rate = (done - clock[1]) / max(time.perf_counter() - clock[0], 1e-9)
        if done % settings.log_every == 0 or done == settings.meta_iterations:
            rundir.log({"iteration": iteration, **logs, "it_per_s": rate})
        progress.update(bar, completed=done, status=status_line(logs, rate))
        if lines is not None:
            lines.update(done, status_line(logs, rate))
        if done % settings.checkpoint_every == 0 or done == settings.meta_iterations:
            rundir.checkpoint(session.model, algorithm, done)
            update_record(rundir, iteration=done, last=logs)
        if settings.sample_every and done % settings.sample_every == 0:
            save_sample(session, rundir, f"iteration-{done:06d}")

    try:
        with progress:
            meta_train(algorithm, session.model, session.sampler, settings, start, after_step)
    except KeyboardInterrupt:
        if rundir.resume_state.exists():
            saved = rundir.load_checkpoint()["iteration"]
            say(
                f"stopped; the checkpoint after meta-iteration {saved} is kept: continue with "
                f"`metaframe run {session.config.algorithm} --out {out} --resume`"
            )
        raise
    if start == settings.meta_iterations:  # nothing left to run: still leave a complete folder
        rundir.checkpoint(session.model, algorithm, start)
    update_record(rundir, status="finished")
    save_sample(session, rundir, "final")
    session.sampler.close()
    return rundir


def status_line(logs: dict[str, float], rate: float) -> str:
    """The progress bar's text: every logged scalar, then iterations per second."""
    parts = [f"{key} {value:.4g}" for key, value in sorted(logs.items())]
    return "  ".join([*parts, f"{rate:.2f} it/s"])


def update_record(rundir: RunDir, **changes: Any) -> None:
    """Update fields of ``run.json`` (status, iteration, last logged values)."""
    record = rundir.read_config()
    record.update(changes)
    rundir.write_config(record)


def save_sample(session: Session, rundir: RunDir, name: str) -> None:
    """A picture of the model personalized to the first held-out task, when the model can draw."""
    if SAMPLES not in session.model.capabilities:
        return
    try:
        task = session.sampler.eval_tasks()[0]
    except UsageError as error:  # e.g. a dataset without held-out videos: the run itself is fine
        say(f"no sample picture: {error}")
        return
    picture = personalized_picture(
        session.model, task, session.config.settings.t, session.config.settings.inner_schedule
    )
    path = rundir.save_picture(name, picture)
    if name == "final":
        say(f"sample (pose | generated | real) of held-out {task.name} after personalization: {path}")

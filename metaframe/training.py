"""A training: a run folder's meta-training once built, start or resume, loop, checkpoints, samples, how it ended.

A :class:`Training` is what :func:`start_training` or :func:`resume_training` prepares and :func:`train` carries to
its last meta-iteration; what a Python caller asks for and gets back (``metaframe.run``) is :mod:`metaframe.runs`.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
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

from metaframe import __version__, distributed
from metaframe.build import Setup, build_algorithm, build_setup, provenance
from metaframe.checkpoint import check_compatible, first_non_finite, load_into, split_algorithm_tensors
from metaframe.config import Config
from metaframe.errors import Diverged, Interrupted, UsageError
from metaframe.loop import meta_train
from metaframe.output import console_err, say
from metaframe.params import restore
from metaframe.plugins import Plugins
from metaframe.progress import LogLines
from metaframe.protocols import Capability, OuterAlgorithm, TaskModel
from metaframe.run_folder import RunFolder, folder_for_process, weights_file
from metaframe.scoring import personalized_picture


@dataclass
class Training:
    """A training ready to go: the built setup and algorithm, its run folder (locked) and the
    meta-iteration to start at."""

    setup: Setup
    algorithm: OuterAlgorithm
    folder: RunFolder
    start: int


def build_for_training(config: Config, plugins: Plugins, init: Path | None) -> tuple[Setup, OuterAlgorithm]:
    """Sampler, model (with ``init`` weights loaded) and algorithm; every check that can refuse is here."""
    distributed.check_meta_batch(config.settings.meta_batch)
    if config.settings.t < 1:
        raise UsageError("meta-training needs at least 1 inner iteration (--t 1 or more); T = 0 is for eval")
    setup = build_setup(config, plugins)
    if init is not None:
        load_into(setup.model, weights_file(init))
    return setup, build_algorithm(setup, plugins)


def start_training(config: Config, plugins: Plugins, out: Path, init: Path | None) -> Training:
    """A fresh run: check the folder, build everything, then create the folder and write ``run.json``.

    Nothing is written before the plugins (in every process) have accepted the configuration and each other.
    """
    folder = folder_for_process(out)
    with distributed.together():
        folder.check_new()
        setup, algorithm = build_for_training(config, plugins, init)
    folder.create()
    folder.describe(config)
    record = {
        "config": config.to_json(),
        "init": str(init) if init else None,
        "provenance": provenance(plugins, config, setup.model, algorithm),
        "metaframe": __version__,
        "command": sys.argv,
        "started": now(),
        "status": "running",
        "iteration": 0,
        "world_size": distributed.world_size(),
    }
    folder.write_record(record)
    return Training(setup, algorithm, folder, 0)


def resume_training(plugins: Plugins, out: Path, device: str | None, meta_iterations: int | None = None) -> Training:
    """Continue the run in ``out`` from its last checkpoint, with the configuration it started with.

    Only the device and the number of meta-iterations (to extend a run) may change. A run stopped
    before its first checkpoint starts again from meta-iteration 0.
    """
    folder = folder_for_process(out)
    with distributed.together():
        folder.open_existing()
        try:
            return continue_training(folder, plugins, device, meta_iterations)
        except BaseException:
            folder.unlock()
            raise


def continue_training(folder: RunFolder, plugins: Plugins, device: str | None, meta_iterations: int | None) -> Training:
    """:func:`resume_training` once the folder is locked."""
    out = folder.path
    record = folder.read_record()
    check_world_size(out, record.get("world_size", 1))
    config = folder.stored_config()
    if device is not None:
        config.settings.device = device
    folder.describe(config)
    state = folder.load_checkpoint() if folder.resume_state.exists() else None
    done = state["iteration"] if state else 0
    if meta_iterations is not None:
        if meta_iterations < done:
            raise UsageError(
                f"--meta-iterations {meta_iterations} is fewer than the {done} this run has done; give {done} or more"
            )
        config.settings.meta_iterations = meta_iterations
    if state is None:
        setup, algorithm = build_for_training(config, plugins, Path(record["init"]) if record.get("init") else None)
        folder.truncate_metrics(0)
        say(f"{out} stopped before its first checkpoint: starting it again from meta-iteration 0")
    else:
        setup, algorithm = build_for_training(config, plugins, None)
        weights, _ = split_algorithm_tensors(state["weights"])  # the algorithm's come back with its state
        check_compatible(setup.model, weights, str(folder.resume_state))
        restore(setup.model.networks, weights)
        algorithm.load_state_dict(state["algorithm"])
        dropped, torn = folder.truncate_metrics(state["metrics_bytes"])
        folder.publish_weights(state["weights"], done)  # the weights file may be one write behind
        if dropped:
            cut = ", the last one cut short" if torn else ""
            say(f"dropped {dropped} metrics line(s) logged after the checkpoint{cut}")
        say(f"resuming {out} at meta-iteration {done} of {config.settings.meta_iterations}")
    record.update(config=config.to_json(), status="running", reason=None, iteration=done)
    folder.write_record(record)
    return Training(setup, algorithm, folder, done)


def check_world_size(out: Path, recorded: int) -> None:
    """A run resumes with the number of processes it started with: each process's random stream
    derives from its rank, so another number would not continue the run it began."""
    size = distributed.world_size()
    if recorded != size:
        how = "without torchrun" if recorded == 1 else f"with {recorded} processes (torchrun --nproc_per_node …)"
        raise UsageError(
            f"{out} was trained by {recorded} process(es), not {size}; a run is reproducible only with the "
            f"number it started with: resume it {how}"
        )


def now() -> str:
    """The time in UTC, as ``run.json`` records it."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM (what schedulers and ``kill`` send) stops a run the way Ctrl-C does."""

    def stop(number: int, frame: object) -> None:
        raise Interrupted(signal.Signals(number).name)

    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except BaseException:
        if distributed.world_size() > 1:  # stopping already: torchrun's SIGTERM to the others must not cut
            previous[signal.SIGTERM] = signal.SIG_IGN  # this process's error line short (SIGKILL follows anyway)
        raise
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def check_finite(model: TaskModel, logs: dict[str, float], iteration: int) -> None:
    """Stop a run whose logged values or weights hold a NaN or an infinity, naming the first one."""
    quantity = next((f"{key} is {value}" for key, value in logs.items() if not math.isfinite(value)), None)
    if quantity is None:
        for name, network in model.networks.items():
            broken = first_non_finite(network.state_dict())
            if broken is not None:
                quantity = f"weight {name}.{broken} is not finite"
                break
    if quantity is not None:
        raise Diverged(f"meta-iteration {iteration}: {quantity}; the run diverged (lower a learning rate)")


def progress_bars(show: bool = True) -> Progress:
    """The live bars of long work (description, count, bar, status, elapsed, left); shown on a terminal only."""
    return Progress(
        TextColumn("{task.description}"),
        MofNCompleteColumn(),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console_err,
        disable=not (show and console_err.is_terminal),
    )


def train(
    training: Training, show_progress: bool = True, bars: Progress | None = None, hint: str | None = None
) -> RunFolder:
    """Run the remaining meta-iterations with a progress bar, checkpoints, metrics and samples.

    ``bars``: a live :func:`progress_bars` display already shown (e.g. with an overall bar) to add the
    meta-iteration bar to; by default the run shows its own. ``hint``: what to say to continue after a
    stop (default: the ``run --resume`` command). However the run ends, ``run.json`` says so:
    ``finished``, ``interrupted`` (a signal) or ``failed`` (an error, e.g. a diverged run), with the reason.
    """
    setup, algorithm, folder, start = training.setup, training.algorithm, training.folder, training.start
    settings = setup.config.settings
    live = console_err.is_terminal
    progress = bars or progress_bars(show_progress)
    shown = contextlib.nullcontext() if bars is not None else progress
    bar = progress.add_task("meta-iteration", total=settings.meta_iterations, completed=start, status="")
    # a live bar shows nothing in a log file: there, plain lines every few iterations or 30 s
    lines = LogLines("meta-iteration", settings.meta_iterations, start) if show_progress and not live else None
    clock = [time.perf_counter(), start]

    def after_step(iteration: int, logs: dict[str, float]) -> None:
        done = iteration + 1
        rate = (done - clock[1]) / max(time.perf_counter() - clock[0], 1e-9)
        if done % settings.log_every == 0 or done == settings.meta_iterations:
            folder.log({"iteration": iteration, **logs, "it_per_s": rate})
        check_finite(setup.model, logs, iteration)
        progress.update(bar, completed=done, status=status_line(logs, rate))
        if lines is not None:
            lines.update(done, status_line(logs, rate))
        if done % settings.checkpoint_every == 0 or done == settings.meta_iterations:
            folder.checkpoint(setup.model, algorithm, done)
            update_record(folder, iteration=done, last=logs)
        if settings.sample_every and done % settings.sample_every == 0:
            save_sample(setup, algorithm, folder, f"iteration-{done:06d}")

    try:
        with stop_on_signals():
            with shown:
                meta_train(algorithm, setup.model, setup.sampler, settings, start, after_step)
            if start == settings.meta_iterations:  # nothing left to run: still leave a complete folder
                folder.checkpoint(setup.model, algorithm, start)
            save_sample(setup, algorithm, folder, "final")
            distributed.exchange(None)  # the other processes go on (e.g. to evaluate) once process 0 has written
    except KeyboardInterrupt as stop:
        name = stop.signal_name if isinstance(stop, Interrupted) else "SIGINT"
        update_record(folder, status="interrupted", reason=f"stopped by {name}", ended=now())
        say(hint or resume_hint(folder, setup.config.algorithm))
        raise
    except BaseException as error:
        update_record(folder, status="failed", reason=str(error) or type(error).__name__, ended=now())
        if isinstance(error, Diverged):
            saved = folder.saved_iteration()
            kept = f"the checkpoint after meta-iteration {saved} is kept" if saved else "no checkpoint was kept"
            raise Diverged(f"{error}; {kept}, run.json says failed") from None
        if distributed.lost_peer(error):
            hint = resume_hint(folder, setup.config.algorithm)
            raise distributed.PeerLost(f"{distributed.lost_peer_line(error)}; {hint}") from None
        raise
    finally:
        progress.remove_task(bar)
        setup.sampler.close()
        folder.unlock()
    update_record(folder, status="finished", ended=now())
    return folder


def resume_hint(folder: RunFolder, algorithm: str) -> str:
    """What an interrupted run keeps, and the command that continues it."""
    saved = folder.saved_iteration()
    command = f"`{distributed.launcher()} run {algorithm} --out {folder.path} --resume`"
    if saved is None:
        return f"stopped before the first checkpoint; {command} starts it again from meta-iteration 0"
    return f"stopped; the checkpoint after meta-iteration {saved} is kept: continue with {command}"


def status_line(logs: dict[str, float], rate: float) -> str:
    """The progress bar's text: every logged scalar, then iterations per second."""
    parts = [f"{key} {value:.4g}" for key, value in sorted(logs.items())]
    return "  ".join([*parts, f"{rate:.2f} it/s"])


def update_record(folder: RunFolder, **changes: Any) -> None:
    """Update fields of ``run.json`` (status, iteration, last logged values); process 0's job."""
    if not folder.writes:
        return
    record = folder.read_record()
    record.update(changes)
    folder.write_record(record)


def save_sample(setup: Setup, algorithm: OuterAlgorithm, folder: RunFolder, name: str) -> None:
    """A picture of the model personalized to the first held-out task, when the model can draw."""
    if Capability.SAMPLES not in setup.model.capabilities or not folder.writes:
        return
    try:
        task = setup.sampler.eval_tasks()[0]
    except UsageError as error:  # e.g. data without held-out tasks: the run itself is fine
        say(f"no sample picture: {error}")
        return
    settings = setup.config.settings
    picture = personalized_picture(setup.model, task, settings.t, settings.inner_schedule, algorithm.personalize)
    path = folder.save_picture(name, picture)
    if name == "final":
        say(f"sample picture of held-out {task.name} after personalization: {path}")

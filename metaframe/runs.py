"""Runs from names: what ``metaframe run`` does, for a Python caller (:func:`run`, which returns a
:class:`RunResult`), and the one rule by which a run folder's training is started, resumed or kept
(:func:`resume_or_start`).

How a :class:`~metaframe.training.Training` proceeds once built (the loop, checkpoints, samples, how it
ended) is :mod:`metaframe.training`.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from metaframe.build import announce
from metaframe.config import Config, differences
from metaframe.errors import UsageError, as_usage_errors, check_counts
from metaframe.plugins import Plugins, get_plugins
from metaframe.resolve import as_path, resolve
from metaframe.run_folder import RunFolder
from metaframe.training import Training, resume_training, start_training, train

RESUME_RULE = "only --meta-iterations (to extend it) and --device may change; start a new run for the rest"


@dataclass(frozen=True)
class RunResult:
    """A finished run: its folder, its configuration and what its ``run.json`` records.

    :param path: the run folder (``model.safetensors``, ``run.json``, ``metrics.jsonl``, ...).
    :param config: the resolved configuration it trained with.
    :param iteration: the meta-iterations done.
    :param last: the values logged at the last checkpoint (losses and the like).
    """

    path: Path
    config: Config
    iteration: int
    last: dict[str, float]

    @property
    def weights(self) -> Path:
        """``model.safetensors``: the meta-learned weights (what ``evaluate`` takes as an init)."""
        return RunFolder(self.path).weights

    @property
    def metrics(self) -> list[dict[str, Any]]:
        """The lines of ``metrics.jsonl``: one dict per logged meta-iteration (none in a run of 0)."""
        logged = RunFolder(self.path).metrics
        text = logged.read_text() if logged.is_file() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def result_of(folder: Path) -> RunResult:
    """The :class:`RunResult` of the run in ``folder``, from its ``run.json``."""
    run_folder = RunFolder(folder)
    record = run_folder.read_record()
    return RunResult(folder, run_folder.stored_config(), record.get("iteration", 0), dict(record.get("last", {})))


def default_out(algorithm: str, model: str, task: str) -> Path:
    """``runs/ALGORITHM-MODEL-TASK-YYYYmmdd-HHMMSS``."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{algorithm}-{model}-{task}-{stamp}"


def resume_or_start(
    plugins: Plugins, config: Config, folder: Path, init: Path | None, device: str | None
) -> Training | None:
    """The training of ``config`` in ``folder``: started when the folder holds none, resumed (on
    ``device``, when given) when it holds an unfinished one, None when it holds a finished one. The
    caller has checked that a run already there is ``config``'s."""
    run_folder = RunFolder(folder)
    if not run_folder.record_file.is_file():
        return start_training(config, plugins, folder, init)
    if run_folder.read_record().get("status") == "finished":
        return None
    return resume_training(plugins, folder, device)


@dataclass(frozen=True)
class RunArguments:
    """What :func:`prepare` needs: the arguments of :func:`run` (``explicit``: meta-batch, K, T, seed), as given."""

    algorithm: str
    model: str | None
    task: str | None
    preset: str | None
    config: Path | None
    settings: Mapping[str, Any] | None
    overrides: Sequence[str]
    explicit: dict[str, Any]
    meta_iterations: int | None
    device: str | None
    init: Path | None
    out: Path | None
    resume: bool


def check_unchanged(plugins: Plugins, request: RunArguments, out: Path) -> None:
    """``--resume`` continues a run as it was configured: refuse, naming it, any option that says
    otherwise (``--meta-iterations`` and ``--device`` may change; they are not checked here)."""
    r = request
    if r.init is not None:
        raise UsageError("--init cannot be given with --resume: a resumed run continues from its own checkpoint")
    stored = RunFolder(out).stored_config()
    inherited = {**stored.to_json()["settings"], **stored.options}
    model, task, preset = r.model or stored.model, r.task or stored.task, r.preset or stored.preset
    wanted = resolve(
        plugins, r.algorithm, model, task, preset, r.config, r.overrides, r.explicit, inherited, r.settings
    )
    if r.preset is None:  # a preset installed since the run started does not change it
        wanted.preset = stored.preset
    changed = differences(stored, wanted, ignore=("meta_iterations", "device"))
    if changed:
        raise UsageError(f"--resume: the run in {out} has {changed[0]}; {RESUME_RULE}")


def prepare(plugins: Plugins, request: RunArguments) -> Training:
    """The training ``request`` asks for: resumed from ``out`` (after checking that nothing else changed) or
    started there (or in a new ``runs/`` folder); every refusal happens before anything is written."""
    r = request
    if r.resume:
        if r.out is None:
            raise UsageError("--resume needs --out RUN_DIR, the folder of the run to continue")
        check_unchanged(plugins, r, r.out)
        return resume_training(plugins, r.out, r.device, r.meta_iterations)
    if r.model is None or r.task is None:
        raise UsageError("give --model and --task (see `metaframe plugins` for what is installed)")
    explicit = {**r.explicit, "meta_iterations": r.meta_iterations, "device": r.device}
    config = resolve(plugins, r.algorithm, r.model, r.task, r.preset, r.config, r.overrides, explicit, table=r.settings)
    return start_training(config, plugins, r.out or default_out(r.algorithm, r.model, r.task), r.init)


@as_usage_errors
def run(
    algorithm: str,
    *,
    model: str | None = None,
    task: str | None = None,
    preset: str | None = None,
    config: str | Path | None = None,
    settings: Mapping[str, Any] | None = None,
    overrides: Sequence[str] = (),
    meta_iterations: int | None = None,
    meta_batch: int | None = None,
    k: int | None = None,
    t: int | None = None,
    init: str | Path | None = None,
    out: str | Path | None = None,
    seed: int | None = None,
    device: str | None = None,
    resume: bool = False,
    show_progress: bool = False,
    plugins: Plugins | None = None,
) -> RunResult:
    """Meta-train ``model`` on ``task`` with ``algorithm`` and write the run folder: ``metaframe run``.

    :param settings: a table shaped like a config file (``{"k": 5, "model": {"scale": "tiny"}}``), over
        ``config`` and the preset.
    :param overrides: ``KEY=VALUE`` assignments, as ``--set`` takes them, over ``settings``.
    :param resume: continue the run in ``out`` as it was configured (only ``meta_iterations``, to extend
        it, and ``device`` may change).
    :raises UsageError: whatever the command line would refuse, with the line it prints.
    """
    check_counts(meta_batch=meta_batch, k=k, t=t)
    check_counts(least=0, meta_iterations=meta_iterations)  # 0: the starting weights, as a run folder
    explicit: dict[str, Any] = {"meta_batch": meta_batch, "k": k, "t": t, "seed": seed}
    given = (algorithm, model, task, preset, as_path(config), settings, overrides, explicit, meta_iterations, device)
    request = RunArguments(*given, as_path(init), as_path(out), resume)
    plugins = plugins or get_plugins()
    training = prepare(plugins, request)
    announce(plugins, training.setup.config, training.setup.model)
    return finish(training, show_progress)


def finish(training: Training, show_progress: bool) -> RunResult:
    """Train ``training`` to its last meta-iteration and return what it left."""
    folder = train(training, show_progress=show_progress)
    return result_of(folder.path)

"""Experiments: a paper's evaluation as a plan of stages that ``metaframe reproduce NAME`` runs, resumes
and reports.

A plugin registers an experiment with the ``register_experiments`` hook; its factory builds an
:class:`Experiment`, which turns a :class:`Request` (scale, seeds, K and T lists) into stages and, once
every stage is done, into the sections of ``report.md``. Each stage is one of the engine's own commands:

* :class:`Train` — ``metaframe run``: a run folder, resumed from its last checkpoint after a crash;
* :class:`Given` — weights made elsewhere (shipped with a plugin, say), used as they are;
* :class:`Score` — ``metaframe eval`` of one init: one row of scores;
* :class:`Render` — inits personalized on one held-out task, every query example predicted: the files the
  task shows them in (its ``show``) and the scores of each.

Every stage has a folder ``OUT/NAME``; ``stage.json`` in it marks it finished (with its command, its
result and its wall time), so a rerun of the same command skips finished stages and continues the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Protocol

from metaframe.errors import UsageError
from metaframe.protocols import Task

EXPERIMENT_FILE = "experiment.json"
STAGE_FILE = "stage.json"
REPORT_FILE = "report.md"


@dataclass(frozen=True)
class Request:
    """What the user asked ``metaframe reproduce`` for.

    :param experiment: the experiment's registered name.
    :param scale: one of the experiment's scales.
    :param seeds: the seeds of the repeated stages (1 … N for ``--seeds N``).
    :param ks: the K values of a sweep over the support-set size.
    :param ts: the T values of a sweep over personalization iterations.
    """

    experiment: str
    scale: str
    seeds: tuple[int, ...]
    ks: tuple[int, ...]
    ts: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "scale": self.scale,
            "seeds": list(self.seeds),
            "ks": list(self.ks),
            "ts": list(self.ts),
        }


@dataclass(frozen=True)
class Train:
    """``metaframe run ALGORITHM --model MODEL --task TASK --set A ... [--init INIT] --out OUT/NAME``.

    ``init`` is another stage (its weights) or a weights file; ``assignments`` are ``--set`` strings
    (engine settings such as ``k=5`` included)."""

    name: str
    algorithm: str
    model: str
    task: str
    assignments: tuple[str, ...] = ()
    init: Stage | str | None = None
    about: str = ""


@dataclass(frozen=True)
class Given:
    """Weights made elsewhere, used as they are: a file (e.g. shipped with a plugin) and what it is."""

    name: str
    path: Path
    about: str = ""


@dataclass(frozen=True)
class Score:
    """``metaframe eval --init INIT --model MODEL --task TASK --set A ...``: one row of scores.

    ``init`` is a stage, a weights file, ``random`` or a reference that learns nothing."""

    name: str
    init: Stage | str
    model: str
    task: str
    assignments: tuple[str, ...] = ()
    about: str = ""


@dataclass(frozen=True)
class Render:
    """Each init personalized (as ``eval`` does) on held-out task ``task_index``, every query example predicted.

    The model must declare ``render`` and the task ``show``: the task writes the real examples and each
    init's predictions as files to look at (pictures, a movie: whatever suits its examples), and the
    stage's result records them with each init's scores."""

    name: str
    inits: tuple[Stage | str, ...]
    labels: tuple[str, ...]
    model: str
    task: str
    assignments: tuple[str, ...] = ()
    task_index: int = 0
    about: str = ""


Stage = Train | Given | Score | Render
HeldOut = Callable[[str, str, Sequence[str]], list[Task]]
"""``held_out(model, task, assignments)``: the held-out tasks ``eval`` would score with these options."""


@dataclass
class Results:
    """The finished stages of an experiment, by name: their ``stage.json`` records."""

    out: Path
    records: dict[str, dict[str, Any]] = field(default_factory=dict)

    def result(self, name: str) -> dict[str, Any]:
        """What stage ``name`` produced (for a :class:`Score`: ``init``, ``k``, ``t``, ``metrics`` ...)."""
        return self.records[name]["result"]

    def __contains__(self, name: object) -> bool:
        return name in self.records


class Experiment(Protocol):
    """What an ``register_experiments`` factory returns.

    :attr scales: the scales it can run; the first is the default.
    :attr summary: one line for ``metaframe reproduce --list``.
    """

    scales: tuple[str, ...]

    def sweeps(self, scale: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The default K and T lists at ``scale``."""
        ...

    def plan(self, request: Request, held_out: HeldOut) -> list[Stage]:
        """The stages ``request`` needs, in the order they run (a stage runs after those it uses)."""
        ...

    def report(self, request: Request, results: Results) -> str:
        """The report's body (markdown) from the finished stages; pictures and data files it writes go in
        ``results.out`` and are linked relative to it."""
        ...


def stage_path(out: Path, stage: Stage) -> Path:
    """Where ``stage``'s weights are: a :class:`Given` file, or the stage's folder (a run folder)."""
    return stage.path if isinstance(stage, Given) else out / stage.name


def init_text(out: Path, init: Stage | str | None) -> str | None:
    """An init as a command line names it: another stage's folder (or file), or the given text."""
    if init is None or isinstance(init, str):
        return init
    return str(stage_path(out, init))


def sets(assignments: Sequence[str]) -> str:
    """``--set A --set B ...``."""
    return " ".join(f"--set {item}" for item in assignments)


def command(out: Path, stage: Stage) -> str:
    """The command that does what ``stage`` does, as a user would type it."""
    folder = out / stage.name
    if isinstance(stage, Train):
        init = init_text(out, stage.init)
        start = f" --init {init}" if init else ""
        return (
            f"metaframe run {stage.algorithm} --model {stage.model} --task {stage.task} "
            f"{sets(stage.assignments)}{start} --out {folder}"
        )
    if isinstance(stage, Score):
        return (
            f"metaframe eval --init {init_text(out, stage.init)} --model {stage.model} --task {stage.task} "
            f"{sets(stage.assignments)} --json {folder / 'scores.json'}"
        )
    if isinstance(stage, Render):
        inits = ", ".join(str(init_text(out, init)) for init in stage.inits)
        return (
            f"(metaframe reproduce) personalize {inits} on held-out task {stage.task_index} as "
            f"`metaframe eval --model {stage.model} --task {stage.task} {sets(stage.assignments)}` does, "
            "and render every query example"
        )
    return f"(given) {stage.path}"


def uses(stage: Stage) -> list[Stage]:
    """The stages whose weights ``stage`` starts from (a training's init, an evaluation's, a render's)."""
    inits = [stage.init] if isinstance(stage, Train | Score) else list(getattr(stage, "inits", []))
    return [init for init in inits if not isinstance(init, str | type(None))]


def select(stages: list[Stage], patterns: Sequence[str]) -> list[Stage]:
    """The stages whose names match one of the shell-style ``patterns`` (``score-*-t40-*``), with every
    stage they use, in plan order; a pattern that matches no stage is refused."""
    for pattern in patterns:
        if not any(fnmatchcase(stage.name, pattern) for stage in stages):
            raise UsageError(f"--only {pattern}: no stage of this plan is called so; --plan lists their names")
    chosen = {stage.name for stage in stages if any(fnmatchcase(stage.name, p) for p in patterns)}
    for stage in reversed(stages):  # a stage comes after those it uses (check_plan)
        if stage.name in chosen:
            chosen.update(used.name for used in uses(stage))
    return [stage for stage in stages if stage.name in chosen]


def check_plan(stages: list[Stage]) -> None:
    """Stage names are unique folder names and every stage a stage uses comes before it (a plugin bug
    otherwise, said as such)."""
    seen: set[str] = set()
    for stage in stages:
        if not stage.name or "/" in stage.name or stage.name.startswith(".") or stage.name in seen:
            raise RuntimeError(f"experiment plan: stage name {stage.name!r} is empty, a path or used twice")
        for used in uses(stage):
            if used.name not in seen:
                raise RuntimeError(f"experiment plan: stage {stage.name!r} uses {used.name!r} before it runs")
        seen.add(stage.name)
    for name in (EXPERIMENT_FILE, REPORT_FILE):
        if name in seen:
            raise RuntimeError(f"experiment plan: a stage may not be called {name!r}")


def check_folder(out: Path, request: Request) -> None:
    """``out`` is new, empty, or holds this very request's stages (to resume); anything else is refused
    before any work, naming what it holds."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder; choose another --out")
    if not out.is_dir() or not any(out.iterdir()):
        return
    marker = out / EXPERIMENT_FILE
    if not marker.is_file():
        raise UsageError(f"{out} holds files that are not an experiment's stages; choose another --out or empty it")
    held = json.loads(marker.read_text())["request"]
    if held["experiment"] != request.experiment:
        raise UsageError(
            f"{out} holds the stages of experiment {held['experiment']!r}, not {request.experiment!r}; "
            "choose another --out"
        )
    wanted = request.to_json()
    changed = next((key for key in wanted if held.get(key) != wanted[key]), None)
    if changed is not None:
        shown = ",".join(map(str, held[changed])) if isinstance(held[changed], list) else held[changed]
        raise UsageError(
            f"{out} holds {request.experiment} with {changed} {shown}, not "
            f"{','.join(map(str, wanted[changed])) if isinstance(wanted[changed], list) else wanted[changed]}; "
            f"rerun with the options it started with to resume it, or choose another --out"
        )


def finished(out: Path, stage: Stage) -> dict[str, Any] | None:
    """The ``stage.json`` record of a finished stage, or None."""
    path = out / stage.name / STAGE_FILE
    return json.loads(path.read_text()) if path.is_file() else None

"""Experiments: a paper's evaluation as a plan of stages that ``metaframe reproduce NAME`` runs, resumes
and reports.

A plugin registers an experiment with the ``register_experiments`` hook; its factory builds an
:class:`Experiment`, which turns a :class:`Request` (scale, seeds, K and T lists) into stages and, once
every stage is done, into the sections of ``report.md``. Each stage is one of the engine's own commands:

* :class:`Train` — ``metaframe run``: a run folder, resumed from its last checkpoint after a crash;
* :class:`Given` — weights made elsewhere (shipped with a plugin, say), used as they are;
* :class:`Score` — ``metaframe eval`` of one init: one row of scores;
* :class:`Render` — inits personalized on one held-out task, every query frame drawn: a strip of frames
  (PNG), a side-by-side mp4 and the scores of each.

Every stage has a folder ``OUT/NAME``; ``stage.json`` in it marks it finished (with its command, its
result and its wall time), so a rerun of the same command skips finished stages and continues the rest.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from PIL import Image

from metaframe import __version__
from metaframe.checkpoint import atomic_write, write_json, write_weights
from metaframe.config import RunConfig, differences
from metaframe.errors import UsageError
from metaframe.output import say
from metaframe.plugins import Plugins
from metaframe.progress import clock
from metaframe.protocols import RENDER, Task
from metaframe.rundir import RunDir

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
    """Each init personalized (as ``eval`` does) on held-out task ``task_index``, every query frame drawn.

    Writes ``strip.png`` (a row of frames per init under the real ones), ``frames.mp4`` (the real frames
    and each init's side by side, at ``fps``), ``frames.safetensors`` and each init's scores."""

    name: str
    inits: tuple[Stage | str, ...]
    labels: tuple[str, ...]
    model: str
    task: str
    assignments: tuple[str, ...] = ()
    task_index: int = 0
    fps: float = 30.0
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
            "and render every query frame"
        )
    return f"(given) {stage.path}"


def check_plan(stages: list[Stage]) -> None:
    """Stage names are unique folder names and every stage a stage uses comes before it (a plugin bug
    otherwise, said as such)."""
    seen: set[str] = set()
    for stage in stages:
        if not stage.name or "/" in stage.name or stage.name.startswith(".") or stage.name in seen:
            raise RuntimeError(f"experiment plan: stage name {stage.name!r} is empty, a path or used twice")
        used = [stage.init] if isinstance(stage, Train | Score) else list(getattr(stage, "inits", []))
        for init in used:
            if not isinstance(init, str | type(None)) and init.name not in seen:
                raise RuntimeError(f"experiment plan: stage {stage.name!r} uses {init.name!r} before it runs")
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


@dataclass
class Runner:
    """Runs the stages of one request in ``out``, showing an overall bar and one bar per stage."""

    plugins: Plugins
    out: Path
    device: str | None
    bars: Any  # rich Progress (metaframe.runner.progress_bars)
    log: Callable[[str], None] = say
    hint: str = "stopped; run the same command again to continue: finished stages are kept"

    def run(self, stage: Stage) -> dict[str, Any]:
        """Do ``stage`` and return its result (what ``stage.json`` records under ``result``)."""
        folder = self.out / stage.name
        if isinstance(stage, Given):
            return self.given(stage)
        if isinstance(stage, Train):
            return self.train(stage, folder)
        if isinstance(stage, Score):
            return self.score(stage, folder)
        return self.render(stage, folder)

    def explicit(self) -> dict[str, Any]:
        return {"device": self.device}

    def given(self, stage: Given) -> dict[str, Any]:
        if not Path(stage.path).is_file():
            raise UsageError(f"stage {stage.name}: {stage.path} does not exist; reinstall the plugin that ships it")
        return {"weights": str(stage.path)}

    def train_config(self, stage: Train) -> RunConfig:
        from metaframe.cli.options import resolve  # noqa: PLC0415 - the CLI's own resolution, without a cycle

        return resolve(
            self.plugins, stage.algorithm, stage.model, stage.task, None, None, list(stage.assignments), self.explicit()
        )

    def train(self, stage: Train, folder: Path) -> dict[str, Any]:
        from metaframe.runner import resume_run, start_run, train  # noqa: PLC0415

        config = self.train_config(stage)
        rundir = RunDir(folder)
        if rundir.config.is_file():
            changed = differences(rundir.run_config(), config, ignore=("device",))
            if changed:
                raise UsageError(f"{folder} holds a run with {changed[0]}; it is not this stage's: remove it")
            if rundir.read_config().get("status") != "finished":
                train(resume_run(self.plugins, folder, self.device), bars=self.bars, hint=self.hint)
        else:
            init = init_text(self.out, stage.init)
            run = start_run(config, self.plugins, folder, Path(init) if init else None)
            train(run, bars=self.bars, hint=self.hint)
        record = rundir.read_config()
        return {
            "folder": str(folder),
            "weights": str(rundir.weights),
            "iterations": record.get("iteration"),
            "last": record.get("last", {}),
        }

    def eval_config(self, model: str, task: str, assignments: Sequence[str], inits: list[str]) -> RunConfig:
        from metaframe.cli.eval_cmd import evaluation_config  # noqa: PLC0415

        return evaluation_config(self.plugins, inits, model, task, None, None, list(assignments), self.explicit())

    def score(self, stage: Score, folder: Path) -> dict[str, Any]:
        from metaframe.cli.eval_cmd import score_init  # noqa: PLC0415

        init = str(init_text(self.out, stage.init))
        row = score_init(self.eval_config(stage.model, stage.task, stage.assignments, [init]), init, self.bars)
        write_json(folder / "scores.json", {"rows": [row]})
        return {key: value for key, value in row.items() if key != "tasks"}

    def render(self, stage: Render, folder: Path) -> dict[str, Any]:
        from metaframe.cli.eval_cmd import prepared  # noqa: PLC0415

        frames: dict[str, torch.Tensor] = {}
        scores: dict[str, dict[str, float]] = {}
        task_name = ""
        bar = self.bars.add_task("render", total=len(stage.inits), status="")
        for label, init in zip(stage.labels, stage.inits):
            text = str(init_text(self.out, init))
            config = self.eval_config(stage.model, stage.task, stage.assignments, [text])
            session, personalize = prepared(config, text)
            model = session.model
            if RENDER not in model.capabilities:
                raise UsageError(f"stage {stage.name}: model {config.model!r} cannot render frames (no 'render')")
            task = session.sampler.eval_tasks()[stage.task_index].to(model.device)
            torch.manual_seed(config.settings.seed + stage.task_index)  # as eval personalizes this task
            personalize(model, task.support, config.settings.t, config.settings.inner_schedule)
            model.train(False)
            with torch.no_grad():
                drawn = model.render(task.query).float().cpu()
            frames.setdefault("real", to_uint8(task.query["image"].cpu()))
            frames[label] = to_uint8(drawn)
            scores[label] = model.score_images(drawn.to(model.device), task.query)
            task_name = task.name
            session.sampler.close()
            self.bars.advance(bar)
        self.bars.remove_task(bar)
        folder.mkdir(parents=True, exist_ok=True)
        write_weights(folder / "frames.safetensors", {key: value.contiguous() for key, value in frames.items()})
        strip = frame_strip(frames)
        atomic_write(folder / "strip.png", lambda tmp: Image.fromarray(strip).save(tmp, format="PNG"))
        write_side_by_side(folder / "frames.mp4", list(frames.values()), stage.fps)
        return {
            "task": task_name,
            "frames": len(frames["real"]),
            "labels": ["real", *stage.labels],
            "scores": scores,
            "strip": "strip.png",
            "mp4": "frames.mp4",
        }


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """B×3×H×W images in [-1, 1] as B×H×W×3 uint8."""
    return ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def frame_strip(rows: dict[str, torch.Tensor], columns: int = 8, gap: int = 2) -> np.ndarray:
    """One labelled row per frame set (B×H×W×3 uint8), ``columns`` frames evenly spread over B, on white."""
    from PIL import ImageDraw  # noqa: PLC0415

    frames = list(rows.values())
    count = len(frames[0])
    picks = np.linspace(0, count - 1, min(columns, count)).round().astype(int)
    height, width = frames[0].shape[1:3]
    margin = 8 + 7 * max(len(label) for label in rows)  # the default font is about 6 pixels a letter
    sheet = np.full((len(rows) * (height + gap) - gap, margin + len(picks) * (width + gap) - gap, 3), 255, np.uint8)
    for r, images in enumerate(frames):
        for c, index in enumerate(picks):
            y, x = r * (height + gap), margin + c * (width + gap)
            sheet[y : y + height, x : x + width] = images[index].numpy()
    picture = Image.fromarray(sheet)
    draw = ImageDraw.Draw(picture)
    for r, label in enumerate(rows):
        draw.text((4, r * (height + gap) + height // 2 - 5), label, fill=(0, 0, 0))
    return np.asarray(picture)


def write_side_by_side(path: Path, panels: list[torch.Tensor], fps: float) -> None:
    """The frame sets side by side as an mp4, written under a temporary name and renamed."""
    from metaframe.videofile import VideoWriter  # noqa: PLC0415 - PyAV only when an mp4 is written

    joined = torch.cat(panels, dim=2).numpy()  # B×H×(W·n)×3

    def write(tmp: Path) -> None:
        with VideoWriter(tmp, fps) as writer:
            writer.write(joined)

    atomic_write(path, write)


def held_out_probe(runner: Runner) -> HeldOut:
    """``held_out(model, task, assignments)`` for experiment plans: the tasks ``eval`` would score (cached)."""
    cache: dict[tuple[str, str, tuple[str, ...]], list[Task]] = {}

    def held_out(model: str, task: str, assignments: Sequence[str]) -> list[Task]:
        from metaframe.session import build_session  # noqa: PLC0415

        key = (model, task, tuple(assignments))
        if key not in cache:
            session = build_session(runner.eval_config(model, task, assignments, []), runner.plugins, load=False)
            try:
                cache[key] = session.sampler.eval_tasks()
            finally:
                session.sampler.close()
        return cache[key]

    return held_out


def check_stages(runner: Runner, stages: list[Stage], held_out: HeldOut) -> None:
    """Before any work: every stage's configuration resolves, every algorithm accepts its model, and the
    held-out tasks of every evaluation can be drawn (a K larger than a held-out task allows is refused here)."""
    from metaframe.session import build_algorithm, build_session  # noqa: PLC0415

    checked: set[tuple[Any, ...]] = set()
    for stage in stages:
        if isinstance(stage, Train):
            config = runner.train_config(stage)
            key = (config.algorithm, json.dumps(config.to_json(), sort_keys=True, default=str))
            if key not in checked:
                session = build_session(config, runner.plugins, load=False)
                build_algorithm(session, runner.plugins)
                session.sampler.close()
                checked.add(key)
        elif isinstance(stage, Score | Render):
            try:
                held_out(stage.model, stage.task, stage.assignments)
            except UsageError as error:
                raise UsageError(f"stage {stage.name} ({' '.join(stage.assignments)}): {error}") from None


def processor_name() -> str:
    """The CPU's model name where the system says it (Linux), else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict[str, Any]:
    """What the report records about where it ran."""
    versions = {}
    for name in ("torch", "numpy", "pluggy", "typer", "safetensors", "av", "matplotlib"):
        module = sys.modules.get(name)
        versions[name] = getattr(module, "__version__", None) if module else None
    return {
        "metaframe": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": processor_name(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "packages": versions,
    }


def stage_title(stage: Stage) -> str:
    kind = type(stage).__name__.lower()
    return f"{kind} {stage.name}"


def run_stages(runner: Runner, stages: list[Stage], show: bool) -> Results:
    """Every stage in order, finished ones skipped; ``stage.json`` written as each one ends."""
    results = Results(runner.out)
    overall = runner.bars.add_task("stages", total=len(stages), status="")
    began = time.perf_counter()
    for number, stage in enumerate(stages, start=1):
        record = finished(runner.out, stage)
        if record is None:
            # the time spent on a stage over every attempt, kept outside its folder (a new run folder is empty)
            spent_file = runner.out / ".wall" / stage.name
            spent = float(spent_file.read_text()) if spent_file.is_file() else 0.0
            if show:
                elapsed = clock(time.perf_counter() - began)
                runner.log(f"stage {number}/{len(stages)}: {stage_title(stage)}  (experiment {elapsed})")
            runner.bars.update(overall, status=stage.name)
            start = time.perf_counter()
            try:
                result = runner.run(stage)
            finally:
                spent += time.perf_counter() - start
                atomic_write(spent_file, lambda tmp, s=spent: tmp.write_text(f"{s:.1f}\n"))
            record = {
                "name": stage.name,
                "kind": type(stage).__name__.lower(),
                "about": stage.about,
                "command": command(runner.out, stage),
                "wall_s": round(spent, 1),
                "result": result,
            }
            write_json(runner.out / stage.name / STAGE_FILE, record)
        elif show:
            runner.log(f"stage {number}/{len(stages)}: {stage_title(stage)} finished already")
        results.records[stage.name] = record
        runner.bars.advance(overall)
    runner.bars.remove_task(overall)
    return results


def write_report(
    request: Request, experiment: Experiment, results: Results, stages: list[Stage], argv: list[str]
) -> Path:
    """``report.md``: the experiment's body, then how it was made — the command, every stage's command
    and wall time, the seeds, the package versions and the machine."""
    body = experiment.report(request, results)
    env = environment()
    done = [stage for stage in stages if stage.name in results]
    lines = []
    if len(done) < len(stages):
        lines += [
            f"> **Partial report**: {len(done)} of {len(stages)} stages have finished; the rows and points of "
            "the others are missing. Run the command without --report to finish them.",
            "",
        ]
    lines += [body.rstrip(), "", "## How this report was made", ""]
    lines.append(
        f"`{' '.join(['metaframe', *argv])}` — experiment `{request.experiment}`, scale `{request.scale}`, "
        f"seeds {', '.join(map(str, request.seeds))}, K list {', '.join(map(str, request.ks))}, "
        f"T list {', '.join(map(str, request.ts))}."
    )
    lines.append("")
    total = sum(results.records[s.name]["wall_s"] for s in done)
    lines.append(
        f"Wall time of all stages: {clock(total)} ({total:.0f} s) on {env['cpus']} CPU(s) "
        f"({env['processor']}, {env['platform']}){', GPU ' + env['cuda'] if env['cuda'] else ''}; "
        f"metaframe {env['metaframe']}, Python {env['python']}, "
        + ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
        + "."
    )
    lines += ["", "| stage | what | wall time | command |", "|---|---|---|---|"]
    for stage in stages:
        wall = clock(results.records[stage.name]["wall_s"]) if stage.name in results else "not run yet"
        lines.append(f"| {stage.name} | {stage.about} | {wall} | `{command(results.out, stage)}` |")
    path = results.out / REPORT_FILE
    atomic_write(path, lambda tmp: tmp.write_text("\n".join(lines) + "\n"))
    return path


def reproduce(
    plugins: Plugins,
    request: Request,
    out: Path,
    device: str | None,
    show: bool,
    argv: list[str],
    report_only: bool = False,
) -> Path:
    """Plan, check, run (or resume) every stage of ``request`` in ``out``, then write ``report.md``; with
    ``report_only``, write the report of the stages finished so far and run nothing."""
    from metaframe.runner import progress_bars  # noqa: PLC0415

    experiment: Experiment = plugins.experiments.get(request.experiment).factory()
    check_folder(out, request)
    bars = progress_bars(show)
    runner = Runner(plugins, out, device, bars)
    held_out = held_out_probe(runner)
    stages = experiment.plan(request, held_out)
    check_plan(stages)
    marker = out / EXPERIMENT_FILE
    if report_only:
        if not marker.is_file():
            raise UsageError(f"--report: {out} holds no stages yet; run the command without --report first")
        results = Results(out, {s.name: record for s in stages if (record := finished(out, s)) is not None})
        return write_report(request, experiment, results, stages, argv)
    check_stages(runner, stages, held_out)
    if not marker.is_file():
        out.mkdir(parents=True, exist_ok=True)
        write_json(
            marker,
            {
                "request": request.to_json(),
                "stages": [s.name for s in stages],
                "command": ["metaframe", *argv],
                "environment": environment(),
            },
        )
    with bars:
        results = run_stages(runner, stages, show)
    return write_report(request, experiment, results, stages, argv)

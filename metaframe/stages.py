"""Running an experiment's plan: each stage as the engine's own command (a run folder, an ``eval`` row, the
predictions a task shows), finished stages skipped, and ``report.md`` written from their records
(:mod:`metaframe.experiment` says what an experiment and its stages are)."""

from __future__ import annotations

import functools
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from metaframe import __version__
from metaframe.build import build_algorithm, build_setup
from metaframe.checkpoint import atomic_write, write_json
from metaframe.config import Config, differences
from metaframe.errors import UsageError
from metaframe.evaluation import evaluation_config, prepared, score_init
from metaframe.experiment import (
    EXPERIMENT_FILE,
    REPORT_FILE,
    STAGE_FILE,
    Experiment,
    Given,
    HeldOut,
    Render,
    Request,
    Results,
    Score,
    Stage,
    Train,
    check_folder,
    check_plan,
    command,
    finished,
    init_text,
    select,
)
from metaframe.output import say
from metaframe.plugins import Plugins
from metaframe.progress import clock
from metaframe.protocols import Capability, Task
from metaframe.resolve import resolve
from metaframe.run_folder import RunFolder
from metaframe.runs import resume_or_start
from metaframe.training import progress_bars, train


@dataclass
class StageRunner:
    """Runs the stages of one request in ``out``, showing an overall bar and one bar per stage; each kind of
    stage has its method, ``<kind>_stage``."""

    plugins: Plugins
    out: Path
    device: str | None
    bars: Any  # rich Progress (progress_bars)
    show: bool = True  # progress at all: bars on a terminal, plain lines in a log (--quiet: none)
    log: Callable[[str], None] = say
    hint: str = "stopped; run the same command again to continue: finished stages are kept"

    def run_stage(self, stage: Stage) -> dict[str, Any]:
        """Do ``stage`` and return its result (what ``stage.json`` records under ``result``)."""
        folder = self.out / stage.name
        if isinstance(stage, Given):
            return self.given_stage(stage)
        if isinstance(stage, Train):
            return self.train_stage(stage, folder)
        if isinstance(stage, Score):
            return self.score_stage(stage, folder)
        return self.render_stage(stage, folder)

    def explicit(self) -> dict[str, Any]:
        return {"device": self.device}

    def given_stage(self, stage: Given) -> dict[str, Any]:
        if not Path(stage.path).is_file():
            raise UsageError(f"stage {stage.name}: {stage.path} does not exist; reinstall the plugin that ships it")
        return {"weights": str(stage.path)}

    def train_config(self, stage: Train) -> Config:
        return resolve(
            self.plugins, stage.algorithm, stage.model, stage.task, None, None, list(stage.assignments), self.explicit()
        )

    def train_stage(self, stage: Train, folder: Path) -> dict[str, Any]:
        config = self.train_config(stage)
        run_folder = RunFolder(folder)
        if run_folder.record_file.is_file():
            changed = differences(run_folder.stored_config(), config, ignore=("device",))
            if changed:
                raise UsageError(f"{folder} holds a run with {changed[0]}; it is not this stage's: remove it")
        init = init_text(self.out, stage.init)
        training = resume_or_start(self.plugins, config, folder, Path(init) if init else None, self.device)
        if training is not None:
            train(training, self.show, self.bars, self.hint)
        record = run_folder.read_record()
        return {
            "folder": str(folder),
            "weights": str(run_folder.weights),
            "iterations": record.get("iteration"),
            "last": record.get("last", {}),
        }

    def eval_config(self, model: str, task: str, assignments: Sequence[str], inits: list[str]) -> Config:
        return evaluation_config(self.plugins, inits, model, task, None, None, list(assignments), self.explicit())

    def score_stage(self, stage: Score, folder: Path) -> dict[str, Any]:
        init = str(init_text(self.out, stage.init))
        row = score_init(
            self.eval_config(stage.model, stage.task, stage.assignments, [init]), init, self.bars
        ).to_json()
        write_json(folder / "scores.json", {"rows": [row]})
        return {key: value for key, value in row.items() if key != "tasks"}

    def render_stage(self, stage: Render, folder: Path) -> dict[str, Any]:
        examples: dict[str, torch.Tensor] = {}
        scores: dict[str, dict[str, float]] = {}
        task_name, show = "", None
        bar = self.bars.add_task("render", total=len(stage.inits), status="")
        for label, init in zip(stage.labels, stage.inits):
            text = str(init_text(self.out, init))
            config = self.eval_config(stage.model, stage.task, stage.assignments, [text])
            setup, personalize = prepared(config, text, self.plugins)
            model, sampler = setup.model, setup.sampler
            check_render(stage.name, config, model.capabilities, sampler.capabilities)
            task = sampler.eval_tasks()[stage.task_index].to(model.device)
            torch.manual_seed(config.settings.seed + stage.task_index)  # as eval personalizes this task
            personalize(model, task.support, config.settings.t, config.settings.inner_schedule)
            model.train(False)
            with torch.no_grad():
                predicted = model.render(task.query).float().cpu()
            examples.setdefault("real", task.query[str(model.predicts)].cpu())
            examples[label] = predicted
            scores[label] = model.score_predictions(predicted.to(model.device), task.query)
            task_name, show = task.name, sampler.show
            sampler.close()
            self.bars.advance(bar)
        self.bars.remove_task(bar)
        assert show is not None, "a Render stage names at least one init"
        shown = show(examples, folder)
        return {"task": task_name, "labels": ["real", *stage.labels], "scores": scores, **shown}


def check_render(name: str, config: Config, model: frozenset[Capability], task: frozenset[Capability]) -> None:
    """Refuse a Render stage whose model cannot predict from inputs alone or whose task cannot show examples."""
    if Capability.RENDER not in model:
        raise UsageError(
            f"stage {name}: model {config.model!r} cannot render its predictions (no '{Capability.RENDER}')"
        )
    if Capability.SHOW not in task:
        raise UsageError(f"stage {name}: task {config.task!r} cannot show examples (no '{Capability.SHOW}')")


def held_out_probe(runner: StageRunner) -> HeldOut:
    """``held_out(model, task, assignments)`` for experiment plans: the tasks ``eval`` would score (not kept:
    at 512 px the held-out tasks of every stage's options would not fit in memory together)."""

    def held_out(model: str, task: str, assignments: Sequence[str]) -> list[Task]:
        setup = build_setup(runner.eval_config(model, task, assignments, []), runner.plugins, load=False)
        try:
            return setup.sampler.eval_tasks()
        finally:
            setup.sampler.close()

    return held_out


def check_stages(runner: StageRunner, stages: list[Stage], held_out: HeldOut) -> None:
    """Before any work: every stage's configuration resolves, every algorithm accepts its model, and the
    held-out tasks of every evaluation can be drawn (a K larger than a held-out task allows is refused here)."""
    checked: set[tuple[Any, ...]] = set()
    for stage in stages:
        if isinstance(stage, Train):
            config = runner.train_config(stage)
            key = (config.algorithm, json.dumps(config.to_json(), sort_keys=True, default=str))
            if key not in checked:
                setup = build_setup(config, runner.plugins, load=False)
                build_algorithm(setup, runner.plugins)
                setup.sampler.close()
                checked.add(key)
        elif isinstance(stage, Score | Render) and (stage.model, stage.task, stage.assignments) not in checked:
            checked.add((stage.model, stage.task, stage.assignments))
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


def run_stages(runner: StageRunner, stages: list[Stage], show: bool) -> Results:
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
                result = runner.run_stage(stage)
            finally:
                spent += time.perf_counter() - start
                atomic_write(spent_file, functools.partial(Path.write_text, data=f"{spent:.1f}\n"))
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
    request: Request, experiment: Experiment, results: Results, stages: list[Stage], started: list[str]
) -> Path:
    """``report.md``: the experiment's body, then how it was made — the command that ``started`` it, every
    stage's command and wall time, the seeds, the package versions and the machine."""
    body = experiment.report(request, results)
    env = environment()
    done = [stage for stage in stages if stage.name in results]
    lines = []
    if len(done) < len(stages):
        lines += [
            f"> **Partial report**: {len(done)} of {len(stages)} stages have finished; the rows and points of "
            "the others are missing. Run the command below (without --report or --only) to finish them.",
            "",
        ]
    lines += [body.rstrip(), "", "## How this report was made", ""]
    lines.append(
        f"`{' '.join(started)}` — experiment `{request.experiment}`, scale `{request.scale}`, "
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


def canonical(argv: Sequence[str]) -> list[str]:
    """The command that makes the whole report: ``argv`` without ``--only`` (which runs some stages first)."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--only":
            skip = True
        elif not arg.startswith("--only="):
            kept.append(arg)
    return kept


def planned(
    plugins: Plugins, request: Request, out: Path, device: str | None, show: bool
) -> tuple[Experiment, StageRunner, HeldOut, list[Stage]]:
    """``request``'s experiment, a runner in ``out`` (checked to be new or this request's) and its plan."""
    experiment: Experiment = plugins.experiments.get(request.experiment).factory()
    check_folder(out, request)
    runner = StageRunner(plugins, out, device, progress_bars(show), show)
    held_out = held_out_probe(runner)
    stages = experiment.plan(request, held_out)
    check_plan(stages)
    return experiment, runner, held_out, stages


def run_experiment(
    plugins: Plugins,
    request: Request,
    out: Path,
    device: str | None,
    show: bool,
    argv: list[str],
    report_only: bool = False,
    only: Sequence[str] = (),
) -> Path:
    """Plan, check, run (or resume) every stage of ``request`` in ``out`` — or only the stages matching
    ``only`` and those they use — then write ``report.md``; with ``report_only``, write the report of the
    stages finished so far and run nothing."""
    experiment, runner, held_out, stages = planned(plugins, request, out, device, show)
    chosen = select(stages, only) if only else stages
    marker = out / EXPERIMENT_FILE
    if report_only:
        if not marker.is_file():
            raise UsageError(f"--report: {out} holds no stages yet; run the command without --report first")
        results = Results(out, {s.name: record for s in stages if (record := finished(out, s)) is not None})
        return write_report(request, experiment, results, stages, json.loads(marker.read_text())["command"])
    check_stages(runner, chosen, held_out)
    if not marker.is_file():
        out.mkdir(parents=True, exist_ok=True)
        write_json(
            marker,
            {
                "request": request.to_json(),
                "stages": [s.name for s in stages],
                "command": ["metaframe", *canonical(argv)],
                "environment": environment(),
            },
        )
    with runner.bars:
        results = run_stages(runner, chosen, show)
    results.records.update(
        (s.name, record) for s in stages if s.name not in results and (record := finished(out, s)) is not None
    )
    return write_report(request, experiment, results, stages, json.loads(marker.read_text())["command"])

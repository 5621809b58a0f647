"""Comparing outer algorithms: meta-train each on the same model, task and budget, then score them all on
the held-out tasks (:func:`compare`, what ``metaframe compare`` does)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import Progress

from metaframe import distributed
from metaframe.build import announce, build_algorithm, build_setup
from metaframe.checkpoint import write_json
from metaframe.config import Config, differences
from metaframe.errors import UsageError, as_usage_errors, check_counts
from metaframe.evaluation import RANDOM, Scores, score_init
from metaframe.output import console_err, say
from metaframe.plugins import Plugins, get_plugins
from metaframe.resolve import as_path, resolve
from metaframe.run_folder import RunFolder
from metaframe.runs import RunResult, default_out, result_of, resume_or_start
from metaframe.training import train

COMPARE_FILE = "compare.json"


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`: the folder, each algorithm's run, and one row of scores per run
    (then ``random``'s, unless left out), as ``compare.json`` holds them."""

    path: Path
    runs: dict[str, RunResult]
    scores: Scores


def check_all(plugins: Plugins, configs: list[Config], out: Path, resume: bool) -> None:
    """Before anything trains: every algorithm accepts the model, and every run folder can be written
    (or, with ``--resume``, holds the run of that algorithm)."""
    setup = build_setup(configs[0], plugins, load=False)
    for config in configs:
        build_algorithm(dataclasses.replace(setup, config=config), plugins)
        folder = RunFolder(out / config.algorithm)
        if resume and folder.record_file.is_file():
            changed = differences(folder.stored_config(), config, ignore=("device",))
            if changed:
                raise UsageError(
                    f"--resume: {folder.path} has {changed[0]}; give the options the comparison started with"
                )
        else:
            folder.check_new()
    setup.sampler.close()


def check_request(algorithms: Sequence[str], model: str | None, task: str | None) -> tuple[str, str]:
    """Each algorithm named once, one model and one task for all; returns the model and the task."""
    if not algorithms:
        raise UsageError("Missing argument 'ALGORITHMS...'.")
    if len(set(algorithms)) != len(algorithms):
        raise UsageError("each algorithm may be named once")
    if model is None or task is None:
        raise UsageError("give --model and --task, the same for every algorithm (`metaframe plugins` lists them)")
    return model, task


def check_budgets(configs: list[Config]) -> None:
    """Every algorithm gets the same budget: meta-iterations × meta-batch × K × T."""
    budgets = {(c.settings.meta_iterations, c.settings.meta_batch, c.settings.k, c.settings.t) for c in configs}
    if len(budgets) > 1:
        raise UsageError(
            "the presets give the algorithms different budgets; fix them with --meta-iterations, --meta-batch, --k, --t"
        )


def train_each(
    plugins: Plugins, configs: list[Config], out: Path, init: Path | None, device: str | None, show: bool
) -> dict[str, RunResult]:
    """Train every configuration in its folder under ``out``; a finished one (``--resume``) is kept."""
    runs = {}
    for config in configs:
        folder = out / config.algorithm
        training = resume_or_start(plugins, config, folder, init, device)
        if training is None:
            say(f"[bold]{config.algorithm}[/]: finished already in {folder}")
        else:
            say(f"[bold]{config.algorithm}[/] → {folder}")
            announce(plugins, training.setup.config, training.setup.model)
            train(training, show_progress=show)
        runs[config.algorithm] = result_of(folder)
    return runs


@as_usage_errors
def compare(
    algorithms: Sequence[str],
    *,
    model: str | None = None,
    task: str | None = None,
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
    random: bool = True,
    resume: bool = False,
    show_progress: bool = False,
    plugins: Plugins | None = None,
) -> Comparison:
    """Meta-train ``model`` on ``task`` with each algorithm on the same budget, then personalize each result
    on the held-out tasks and score it: ``metaframe compare``. Writes one run folder per algorithm and
    ``compare.json`` in ``out``; with ``resume``, finished runs are kept and the others resume or start.

    :param random: add the row of a randomly initialized model.
    :raises UsageError: whatever the command line would refuse, with the line it prints.
    """
    model, task = check_request(algorithms, model, task)
    check_counts(meta_batch=meta_batch, k=k, t=t)
    check_counts(least=0, meta_iterations=meta_iterations)  # 0: the starting weights, as a run folder
    plugins = plugins or get_plugins()
    explicit: dict[str, Any] = {"meta_iterations": meta_iterations, "meta_batch": meta_batch, "k": k, "t": t}
    explicit.update(seed=seed, device=device)
    layers = (None, as_path(config), overrides, explicit)
    configs = [resolve(plugins, name, model, task, *layers, table=settings) for name in algorithms]
    check_budgets(configs)
    if resume and out is None:
        raise UsageError("--resume needs --out, the folder of the comparison to continue")
    folder = Path(out) if out is not None else default_out("compare", model, task)
    with distributed.together():  # under torchrun: a refusal stops every process
        check_all(plugins, configs, folder, resume)
    runs = train_each(plugins, configs, folder, as_path(init), device, show_progress)
    inits = [str(folder / name) for name in algorithms] + ([RANDOM] if random else [])
    with Progress(console=console_err, transient=True, disable=not show_progress) as bars:
        scores = Scores([score_init(configs[0], name, bars, plugins) for name in inits], configs[0])
    if distributed.is_writer():
        write_json(folder / COMPARE_FILE, scores.to_json())
    return Comparison(folder, runs, scores)

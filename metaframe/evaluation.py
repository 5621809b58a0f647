"""Evaluating inits on the held-out tasks: what an init names (a run folder, a weights file, ``random``, a
reference), the configuration an evaluation uses, and one row of scores per init.

:func:`evaluate` is what ``metaframe eval`` does, for a Python caller: it returns the rows instead of
printing them. The protocol itself (personalize, then score each task) is :mod:`metaframe.scoring`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import Progress

from metaframe import distributed
from metaframe.build import Setup, announce, build_setup
from metaframe.checkpoint import load_into, weights_metadata
from metaframe.config import Config
from metaframe.errors import UsageError, as_usage_errors, check_counts
from metaframe.loop import adapt
from metaframe.output import console_err
from metaframe.params import State
from metaframe.plugins import Plugins, get_plugins
from metaframe.references import check_reference, references
from metaframe.resolve import as_path, resolve
from metaframe.run_folder import RunFolder, weights_file
from metaframe.scoring import Personalize, mean_scores, personalize_and_score, score_reference

RANDOM = "random"


@dataclass(frozen=True)
class Row:
    """One init's scores on the held-out tasks: the means over tasks and each task's own.

    :param init: what was scored (a run folder, a weights file, ``random`` or a reference's name).
    :param metrics: each metric averaged per task, then over tasks.
    :param goals: per metric, ``"min"`` or ``"max"`` (which way is better) or ``"info"``.
    :param scopes: metric-name prefixes the model names, with what they mean.
    :param tasks: one dict per held-out task: its name and its scores.
    """

    init: str
    k: int
    t: int
    metrics: dict[str, float]
    goals: dict[str, str]
    scopes: dict[str, str]
    tasks: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        """The row as ``--json`` and ``compare.json`` write it."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Scores:
    """The result of :func:`evaluate` (and of :func:`metaframe.compare`): one :class:`Row` per init, in order,
    and the configuration they were scored with."""

    rows: list[Row]
    config: Config

    def __getitem__(self, init: str) -> Row:
        """The row of ``init``, as it was given."""
        for row in self.rows:
            if row.init == init:
                return row
        raise KeyError(init)

    def to_json(self) -> dict[str, Any]:
        """What ``--json`` writes: ``{"rows": [...]}``."""
        return {"rows": [row.to_json() for row in self.rows]}


def not_learned(plugins: Plugins | None = None) -> tuple[str, ...]:
    """The inits that name no file: ``random`` and every reference (the engine's and the plugins')."""
    return (RANDOM, *references(plugins or get_plugins()))


def evaluation_algorithm(plugins: Plugins, model: str, task: str) -> str:
    """The algorithm whose preset applies to an evaluation without a run folder: eval trains nothing,
    so a preset made for any algorithm is preferred (any registered name then selects it), else the
    algorithm of the first preset for this model and task."""
    presets = [e.factory for e in plugins.presets if (e.factory.model, e.factory.task) == (model, task)]
    named = [preset.algorithm for preset in presets if preset.algorithm is not None]
    if named and all(preset.algorithm is not None for preset in presets):
        return named[0]
    return plugins.algorithms.names()[0]


def run_config_of(init: str, plugins: Plugins | None = None) -> Config | None:
    """The configuration of the run folder ``init`` (None for a named init or a bare weights file)."""
    if init in not_learned(plugins):
        return None
    run_folder = RunFolder(Path(init))
    if not run_folder.record_file.is_file():
        if not Path(init).exists():
            raise UsageError(
                f"--init {init}: no run folder or weights file there; give a run folder, "
                f"a .safetensors file, or one of {', '.join(not_learned(plugins))}"
            )
        return None
    return run_folder.stored_config()


def evaluation_config(
    plugins: Plugins,
    inits: Sequence[str],
    model: str | None,
    task: str | None,
    preset: str | None = None,
    config_file: Path | None = None,
    assignments: Sequence[str] | None = None,
    explicit: Mapping[str, Any] | None = None,
    table: Mapping[str, Any] | None = None,
) -> Config:
    """The configuration ``inits`` are scored with: the first init that is a run folder gives the defaults
    (its model, task, K, T, seed and options); what is given here overrides them."""
    base = next((c for c in (run_config_of(init, plugins) for init in inits) if c is not None), None)
    model = model or (base.model if base else None)
    task = task or (base.task if base else None)
    if model is None or task is None:
        raise UsageError("give --model and --task, or an --init run folder to take them from")
    inherited = None
    if base is not None and (base.model, base.task) == (model, task):
        inherited = {**base.to_json()["settings"], **base.options}
    # eval trains nothing: the algorithm only picks the preset whose K, T and options apply
    algorithm = base.algorithm if base else evaluation_algorithm(plugins, model, task)
    return resolve(plugins, algorithm, model, task, preset, config_file, assignments, explicit, inherited, table)


def prepared(config: Config, init: str, plugins: Plugins | None = None) -> tuple[Setup, Personalize]:
    """The setup of ``config`` with ``init``'s weights loaded (fresh ones for a named init), and the rule
    that personalizes them (:func:`personalization_rule`)."""
    plugins = plugins or get_plugins()
    weights_option = plugins.models.get(config.model).weights_option
    if init in not_learned(plugins):  # fresh weights (or none used), even where the configuration names some
        model_options = {k: v for k, v in config.options["model"].items() if k != weights_option}
        config = dataclasses.replace(config, options={**config.options, "model": model_options})
    setup = build_setup(config, plugins)
    if init in not_learned(plugins):
        return setup, adapt
    path = weights_file(Path(init))
    meta_tensors = load_into(setup.model, path)
    return setup, personalization_rule(plugins, setup, path, meta_tensors)


def personalization_rule(plugins: Plugins, setup: Setup, path: Path, meta_tensors: State) -> Personalize:
    """How the weights at ``path`` are personalized: the rule of the algorithm their metadata names
    (built with its options, its meta-learned tensors loaded), or :func:`adapt` when none is named."""
    about = weights_metadata(path)
    name = about.get("algorithm")
    if name is None:
        return adapt
    if name not in plugins.algorithms:
        raise UsageError(
            f"{path} was made by algorithm {name!r}, which is not installed; its rule is needed to personalize it"
        )
    options = json.loads(about.get("algorithm_options", "{}"))
    algorithm = plugins.algorithms.get(name).build(options, setup.model, setup.config.settings)
    algorithm.load_meta_tensors(meta_tensors)
    return algorithm.personalize


def trained_setup(init: Path, changes: Mapping[str, Any], plugins: Plugins | None = None) -> Setup:
    """The setup of the run folder ``init`` as it was configured, with ``changes`` to its settings (``k``,
    ``t``, ``seed``, ``device``; None leaves one as it was), for a command that personalizes its model on
    data of its own: the task's data is not loaded, nor the weights yet (:func:`personalizer`)."""
    run_folder = RunFolder(init)
    if not run_folder.record_file.is_file():
        what = "does not exist" if not init.exists() else "holds no run (no run.json)"
        raise UsageError(f"--init {init} {what}; give the run folder of a trained model, e.g. runs/<name>")
    config = run_folder.stored_config()
    given = {key: value for key, value in changes.items() if value is not None}
    config = dataclasses.replace(config, settings=dataclasses.replace(config.settings, **given))
    return build_setup(config, plugins or get_plugins(), load=False)


def personalizer(setup: Setup, init: Path, plugins: Plugins | None = None) -> Personalize:
    """Load the weights of the run folder ``init`` into ``setup``'s model; returns the rule that personalizes
    them, the algorithm's that trained them (:func:`personalization_rule`)."""
    weights = RunFolder(init).weights
    return personalization_rule(plugins or get_plugins(), setup, weights, load_into(setup.model, weights))


def score_init(config: Config, init: str, bars: Progress | None = None, plugins: Plugins | None = None) -> Row:
    """One row: build the model, load ``init`` (unless named), personalize and score every eval task; a
    reference (a predictor that learns nothing) is scored with the model's metrics, without personalization."""
    plugins = plugins or get_plugins()
    bars = bars or Progress(disable=True)
    setup, personalize = prepared(config, init, plugins)
    tasks = setup.sampler.eval_tasks()
    bar = bars.add_task(f"eval {init}", total=len(distributed.share(tasks)), status="")  # this process's tasks
    settings = config.settings
    advance = lambda i: bars.advance(bar)  # noqa: E731
    if init in references(plugins):
        reference = check_reference(init, config.model, setup.model, tasks[0].support, plugins)
        rows = score_reference(setup.model, tasks, reference, advance)
    else:
        rows = personalize_and_score(
            setup.model, tasks, settings.t, settings.inner_schedule, settings.seed, advance, personalize
        )
    setup.sampler.close()
    bars.remove_task(bar)
    model = setup.model
    goals, scopes = dict(model.metric_goals), dict(model.metric_scopes)
    return Row(init, settings.k, settings.t, mean_scores(rows), goals, scopes, rows)


@as_usage_errors
def evaluate(
    inits: Sequence[str | Path],
    *,
    model: str | None = None,
    task: str | None = None,
    k: int | None = None,
    t: int | None = None,
    seed: int | None = None,
    preset: str | None = None,
    config: str | Path | None = None,
    settings: Mapping[str, Any] | None = None,
    overrides: Sequence[str] = (),
    device: str | None = None,
    show_progress: bool = False,
    plugins: Plugins | None = None,
) -> Scores:
    """Personalize each init on every held-out task from K support examples for T iterations, then score
    the task's query set: ``metaframe eval``, returning the rows instead of printing them.

    :param inits: run folders, ``.safetensors`` files, ``"random"`` or references' names; one row each.
    :param t: personalization iterations per task; 0 scores the weights as given, not personalized.
    :param settings: a table shaped like a config file (``{"t": 5, "model": {...}}``), over ``config``.
    :param overrides: ``KEY=VALUE`` assignments, as ``--set`` takes them, over ``settings``.
    :raises UsageError: whatever the command line would refuse, with the line it prints.
    """
    plugins = plugins or get_plugins()
    check_counts(k=k)
    check_counts(least=0, t=t)  # T = 0: the weights as given
    names = [str(init) for init in inits]
    if not names:
        raise UsageError("Missing option '--init'.")
    explicit = {"k": k, "t": t, "seed": seed, "device": device}
    resolved = evaluation_config(plugins, names, model, task, preset, as_path(config), overrides, explicit, settings)
    with Progress(console=console_err, transient=True, disable=not show_progress) as bars:
        rows = [score_init(resolved, name, bars, plugins) for name in names]
    announce(plugins, resolved)
    return Scores(rows, resolved)

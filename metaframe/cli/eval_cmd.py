"""``metaframe eval``: personalize each init on the held-out tasks and score the query sets."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from metaframe import distributed
from metaframe.checkpoint import load_into, weights_metadata, write_json
from metaframe.cli.options import (
    ConfigOption,
    DeviceOption,
    EvalKOption,
    EvalSeedOption,
    EvalTOption,
    JsonOption,
    ModelOption,
    PresetOption,
    SetOption,
    TaskOption,
    announce,
    check_json_out,
    resolve,
)
from metaframe.config import RunConfig
from metaframe.errors import UsageError
from metaframe.evaluate import Personalize, mean_scores, personalize_and_score, score_reference
from metaframe.loop import adapt
from metaframe.output import console, console_err
from metaframe.params import State
from metaframe.plugins import Plugins, get_plugins
from metaframe.references import check_reference, references
from metaframe.rundir import RunDir
from metaframe.runner import weights_file
from metaframe.session import Session, build_session

RANDOM = "random"
INIT_OPTION = "init"  # the model option that names initial weights, by convention (docs/reference/hooks.md)


def not_learned() -> tuple[str, ...]:
    """The inits that name no file: ``random`` and every reference (the engine's and the plugins')."""
    return (RANDOM, *references(get_plugins()))


def evaluation_algorithm(plugins: Plugins, model: str, task: str) -> str:
    """The algorithm whose preset applies to an evaluation without a run folder: eval trains nothing,
    so a preset made for any algorithm is preferred (any registered name then selects it), else the
    algorithm of the first preset for this model and task."""
    presets = [e.factory for e in plugins.presets if (e.factory.model, e.factory.task) == (model, task)]
    named = [preset.algorithm for preset in presets if preset.algorithm is not None]
    if named and all(preset.algorithm is not None for preset in presets):
        return named[0]
    return plugins.algorithms.names()[0]


def run_config_of(init: str) -> RunConfig | None:
    """The configuration of the run folder ``init`` (None for a named init or a bare weights file)."""
    if init in not_learned():
        return None
    rundir = RunDir(Path(init))
    if not rundir.config.is_file():
        if not Path(init).exists():
            raise UsageError(
                f"--init {init}: no run folder or weights file there; give a run folder, "
                f"a .safetensors file, or one of {', '.join(not_learned())}"
            )
        return None
    return rundir.run_config()


def prepared(config: RunConfig, init: str) -> tuple[Session, Personalize]:
    """The session of ``config`` with ``init``'s weights loaded (fresh ones for a named init), and the rule
    that personalizes them (:func:`personalization_rule`)."""
    if init in not_learned():  # fresh weights (or none used), even where the configuration names initial ones
        model_options = {k: v for k, v in config.options["model"].items() if k != INIT_OPTION}
        config = dataclasses.replace(config, options={**config.options, "model": model_options})
    plugins = get_plugins()
    session = build_session(config, plugins)
    if init in not_learned():
        return session, adapt
    path = weights_file(Path(init))
    meta_tensors = load_into(session.model, path)
    return session, personalization_rule(plugins, session, path, meta_tensors)


def score_init(config: RunConfig, init: str, progress: Progress) -> dict[str, Any]:
    """One row: build the model, load ``init`` (unless named), personalize and score every eval task; a
    reference (copy-nearest, mean-support) is scored with the model's metrics, without personalization."""
    session, personalize = prepared(config, init)
    tasks = session.sampler.eval_tasks()
    bar = progress.add_task(f"eval {init}", total=len(distributed.share(tasks)), status="")  # this process's tasks
    settings = config.settings
    advance = lambda i: progress.advance(bar)  # noqa: E731
    if init in references(get_plugins()):
        reference = check_reference(init, config.model, session.model, tasks[0].support, get_plugins())
        rows = score_reference(session.model, tasks, reference, advance)
    else:
        rows = personalize_and_score(
            session.model, tasks, settings.t, settings.inner_schedule, settings.seed, advance, personalize
        )
    session.sampler.close()
    progress.remove_task(bar)
    return {
        "init": init,
        "k": settings.k,
        "t": settings.t,
        "metrics": mean_scores(rows),
        "goals": dict(session.model.metric_goals),
        "scopes": dict(session.model.metric_scopes),
        "tasks": rows,
    }


def personalization_rule(plugins: Plugins, session: Session, path: Path, meta_tensors: State) -> Personalize:
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
    algorithm = plugins.algorithms.get(name).factory(options, session.model, session.config.settings)
    algorithm.load_meta_tensors(meta_tensors)
    return algorithm.personalize


def short_init(init: str) -> str:
    """An init as the table shows it: a weights file by its name, a run folder by its last two path parts."""
    path = Path(init)
    if init in not_learned():
        return init
    return path.name if path.is_file() else "/".join(path.parts[-2:])


def header(metric: str, scopes: dict[str, str]) -> str:
    """A metric's column header: a scope prefix the model names shrinks to its initial (``p.ssim`` for
    ``person_ssim``), so that the table fits an 80-column terminal."""
    scope = next((prefix for prefix in scopes if metric.startswith(prefix)), None)
    return metric if scope is None else f"{scope[0]}.{metric.removeprefix(scope)}"


def show(rows: list[dict[str, Any]]) -> None:
    """The results as a table, one row per init, arrows saying which way is better; the legend under it
    says what the shortened headers mean and which metrics only the JSON holds."""
    table = Table(title=f"personalization on held-out tasks (K={rows[0]['k']}, T={rows[0]['t']})")
    goals = rows[0]["goals"]
    metrics = [m for m in rows[0]["metrics"] if goals.get(m) != "info"] or list(rows[0]["metrics"])
    scopes = rows[0].get("scopes", {})
    arrows = {"min": "↓", "max": "↑"}
    table.add_column("init", overflow="fold")
    for metric in metrics:
        table.add_column(header(metric, scopes) + arrows.get(goals.get(metric, ""), ""), justify="right")
    for row in rows:
        table.add_row(short_init(row["init"]), *(f"{row['metrics'][m]:.4g}" for m in metrics))
    console.print(table)
    legend = ["↑ higher is better, ↓ lower is better"]
    for prefix, meaning in scopes.items():
        if any(metric.startswith(prefix) for metric in metrics):
            legend.append(f"{prefix[0]}.: {meaning}")
    hidden = [m for m in rows[0]["metrics"] if m not in metrics]
    if hidden:
        legend.append(f"also in --json: {', '.join(hidden)}")
    for line in legend:
        console.print(line, style="dim")


def evaluation_config(
    plugins: Plugins,
    inits: list[str],
    model: str | None,
    task: str | None,
    preset: str | None,
    config_file: Path | None,
    assignments: list[str] | None,
    explicit: dict[str, Any],
) -> RunConfig:
    """The configuration ``metaframe eval`` scores ``inits`` with: the first init that is a run folder gives
    the defaults (its model, task, K, T, seed and options); options given here override them."""
    base = next((c for c in map(run_config_of, inits) if c is not None), None)
    model = model or (base.model if base else None)
    task = task or (base.task if base else None)
    if model is None or task is None:
        raise UsageError("give --model and --task, or an --init run folder to take them from")
    inherited = None
    if base is not None and (base.model, base.task) == (model, task):
        inherited = {**base.to_json()["settings"], **base.options}
    # eval trains nothing: the algorithm only picks the preset whose K, T and options apply
    algorithm = base.algorithm if base else evaluation_algorithm(plugins, model, task)
    return resolve(plugins, algorithm, model, task, preset, config_file, assignments, explicit, inherited)


def evaluate_command(
    inits: Annotated[
        list[str],
        typer.Option(
            "--init",
            metavar="INIT",
            help="A run folder, a .safetensors file, 'random' (fresh weights), or a reference that learns "
            "nothing, for models with the 'images' capability: 'copy-nearest' (the support image whose pose "
            "is nearest), 'mean-support' (the mean support image) or one a plugin registers (`metaframe "
            "plugins` lists them under references). Repeatable: one row each.",
        ),
    ],
    model: ModelOption = None,
    task: TaskOption = None,
    k: EvalKOption = None,
    t: EvalTOption = None,
    seed: EvalSeedOption = None,
    preset: PresetOption = None,
    config: ConfigOption = None,
    assignments: SetOption = None,
    device: DeviceOption = None,
    json_out: JsonOption = None,
) -> None:
    """Personalize each --init on every held-out task from K support examples for T iterations, then
    score the task's query set; prints one row per init (metrics averaged per task, then over tasks).

    The first --init that is a run folder gives the defaults: its model, task, K, T, seed and options."""
    check_json_out(json_out)
    plugins = get_plugins()
    explicit = {"k": k, "t": t, "seed": seed, "device": device}
    resolved = evaluation_config(plugins, inits, model, task, preset, config, assignments, explicit)
    with Progress(console=console_err, transient=True) as progress:
        rows = [score_init(resolved, init, progress) for init in inits]
    announce(plugins, resolved)
    show(rows)
    if json_out and distributed.is_writer():
        write_json(json_out, {"rows": rows})

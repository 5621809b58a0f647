"""Option resolution shared by commands: preset, config file, ``--set``, then explicit options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape

from metaframe.config import RunConfig, assignments_to_layer, build_run_config, read_toml
from metaframe.output import say
from metaframe.plugins import Plugins
from metaframe.protocols import TaskModel
from metaframe.session import check_preset, find_preset

SET_HELP = (
    "Override one setting: KEY=VALUE for engine settings (k, t, seed, checkpoint_every, sample_every, "
    "inner_schedule, ...) or algorithm.KEY / model.KEY / task.KEY for a plugin's options "
    "(e.g. model.scale=tiny). Repeatable."
)
CONFIG_HELP = (
    "A TOML file: engine settings at top level or in a run table; plugin options in algorithm, model "
    "and task tables (see docs/reference/configuration.md)."
)
DEVICE_HELP = "auto (CUDA when present), cpu, cuda or cuda:N."
PRESET_HELP = (
    "A named configuration (see `metaframe plugins`). Default: the preset registered for this "
    "algorithm, model and task, if any."
)


def file_layer(path: Path | None) -> dict[str, Any]:
    """The settings of a TOML config file (``[run]`` is lifted to top level)."""
    if path is None:
        return {}
    data = read_toml(path)
    return {**data.pop("run", {}), **data}


def resolve(
    plugins: Plugins,
    algorithm: str,
    model: str,
    task: str,
    preset: str | None,
    config_file: Path | None,
    assignments: list[str],
    explicit: dict[str, Any],
    inherited: dict[str, Any] | None = None,
) -> RunConfig:
    """The run configuration: preset < ``inherited`` (a run's own settings) < config file < ``--set`` <
    explicit options; every name is checked against the registries. Prints nothing: a refused
    command stays one line (:func:`announce` says which preset applied, once the run starts)."""
    for registry, name in ((plugins.algorithms, algorithm), (plugins.models, model), (plugins.tasks, task)):
        registry.get(name)
    if preset is None:
        preset = find_preset(plugins, algorithm, model, task)
    chosen = plugins.presets.get(preset).factory if preset else None
    if chosen is not None:
        check_preset(preset, chosen, algorithm, model, task)
    layers = [
        inherited or {},
        file_layer(config_file),
        assignments_to_layer(assignments),
        {k: v for k, v in explicit.items() if v is not None},
    ]
    return build_run_config(algorithm, model, task, layers, preset, chosen)


def announce(plugins: Plugins, config: RunConfig, model: TaskModel | None = None) -> None:
    """Once a run or an evaluation has started: say which preset it uses and the model's notes (e.g.
    which weights it loaded), so that a refused command stays one line."""
    if config.preset is not None:
        say(f"using preset [bold]{config.preset}[/] ({plugins.presets.get(config.preset).summary})")
    for key, note in getattr(model, "notes", {}).items():
        say(f"{config.model}: {key.replace('_', ' ')}: {escape(note)}")

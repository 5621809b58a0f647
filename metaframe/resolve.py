"""From names and layers of settings to one :class:`~metaframe.config.Config`: the preset, then a run's
own settings, a config file, a table of settings, ``--set`` assignments and explicit values, each layer
over the one before; every name checked against the registries.

The command line and the Python API (:mod:`metaframe.runs`, :mod:`metaframe.evaluation`) resolve
alike through :func:`resolve`; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from metaframe.config import (
    SECTIONS,
    Config,
    Preset,
    assignments_to_layer,
    build_config,
    read_toml,
)
from metaframe.errors import UsageError
from metaframe.plugins import Plugins
from metaframe.registry import Registry


def as_path(value: str | Path | None) -> Path | None:
    """A path a Python caller gave as text or as a ``Path`` (None stays None)."""
    return Path(value) if value is not None else None


def find_preset(plugins: Plugins, algorithm: str, model: str, task: str) -> str | None:
    """The preset made for this algorithm, model and task (one for any algorithm as a fallback)."""
    matches = [e for e in plugins.presets if e.factory.model == model and e.factory.task == task]
    exact = [e.name for e in matches if e.factory.algorithm == algorithm]
    generic = [e.name for e in matches if e.factory.algorithm is None]
    return next(iter(exact or generic), None)


def check_preset(name: str, preset: Preset, algorithm: str, model: str, task: str) -> None:
    """A named preset must be made for the algorithm, model and task of the run."""
    wanted = {"algorithm": preset.algorithm, "model": preset.model, "task": preset.task}
    given = {"algorithm": algorithm, "model": model, "task": task}
    for key, value in wanted.items():
        if value is not None and value != given[key]:
            raise UsageError(f"preset {name!r} is for {key} {value!r}, not {given[key]!r}")


def check_tables(plugins: Plugins, names: Mapping[str, str | None], tables: Mapping[str, Mapping[str, Any]]) -> None:
    """Each of ``names`` (``{"algorithm": ..., "model": ..., "task": ...}``, None: any) is registered, and
    each option table parses as the options dataclass its plugin declared (``register(..., options=...)``;
    none declared: the table must be empty)."""
    registries: dict[str, Registry[Any]] = {
        "algorithm": plugins.algorithms,
        "model": plugins.models,
        "task": plugins.tasks,
    }
    for section in SECTIONS:
        name = names.get(section)
        if name is None:
            continue
        registries[section].get(name).parse(tables.get(section, {}))


def check_preset_options(plugins: Plugins, name: str, preset: Preset) -> None:
    """Preset ``name`` names registered plugins and sets only options they declare, of the right types:
    checked whenever a preset is used, so that a plugin's misspelt preset fails in one line naming it."""
    names = {"algorithm": preset.algorithm, "model": preset.model, "task": preset.task}
    try:
        check_tables(plugins, names, preset.options)
    except UsageError as error:
        raise UsageError(f"preset {name!r}: {error}") from None


def table_layer(table: Mapping[str, Any] | None) -> dict[str, Any]:
    """A table of settings shaped like a config file (a ``run`` table is lifted to top level)."""
    data = dict(table or {})
    return {**data.pop("run", {}), **data}


def file_layer(path: Path | None) -> dict[str, Any]:
    """The settings of a TOML config file (``[run]`` is lifted to top level)."""
    return table_layer(read_toml(path)) if path is not None else {}


def resolve(
    plugins: Plugins,
    algorithm: str,
    model: str,
    task: str,
    preset: str | None = None,
    config_file: Path | None = None,
    assignments: Sequence[str] | None = None,
    explicit: Mapping[str, Any] | None = None,
    inherited: Mapping[str, Any] | None = None,
    table: Mapping[str, Any] | None = None,
) -> Config:
    """The run configuration: preset < ``inherited`` (a run's own settings) < config file < ``table`` <
    ``--set`` assignments < explicit values (None leaves a value to the layers below)."""
    for registry, name in ((plugins.algorithms, algorithm), (plugins.models, model), (plugins.tasks, task)):
        registry.get(name)
    if preset is None:
        preset = find_preset(plugins, algorithm, model, task)
    chosen = plugins.presets.get(preset).factory if preset else None
    if preset is not None and chosen is not None:
        check_preset(preset, chosen, algorithm, model, task)
        check_preset_options(plugins, preset, chosen)
    layers = [
        dict(inherited or {}),
        file_layer(config_file),
        table_layer(table),
        assignments_to_layer(list(assignments or [])),
        {k: v for k, v in (explicit or {}).items() if v is not None},
    ]
    return build_config(algorithm, model, task, layers, preset, chosen)

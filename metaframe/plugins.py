"""The plugin manager: loads every ``metaframe`` entry point, one at a time, into the registries.

A plugin that fails to import, misspells a hook or raises inside one is recorded as failed, with its
error, and everything else keeps working (``metaframe plugins`` shows it).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from metaframe import hookspecs
from metaframe.config import Preset, preset_problem
from metaframe.factories import AlgorithmFactory, ExperimentFactory, ModelFactory, ReferenceFactory, TaskFactory
from metaframe.registry import Registrar, Registry

GROUP = "metaframe"
ENGINE = Path(__file__).parent
"""The engine's own source folder (a plugin's error is located in the plugin's code, outside it)."""


@dataclass
class PluginInfo:
    """What ``metaframe plugins`` reports about one plugin."""

    name: str
    version: str
    status: str = "ok"
    error: str | None = None


@dataclass
class Plugins:
    """The loaded plugins and what they registered: one :class:`Registry` per kind, each filled by the
    hook ``register_<field name>`` (the one list of kinds; :func:`registry_fields` reads it)."""

    manager: pluggy.PluginManager
    infos: list[PluginInfo] = field(default_factory=list)
    algorithms: Registry[AlgorithmFactory] = field(
        default_factory=lambda: Registry("algorithm", ("requires", "options", "test_options"))
    )
    models: Registry[ModelFactory] = field(
        default_factory=lambda: Registry("model", ("options", "test_options", "weights_option"))
    )
    tasks: Registry[TaskFactory] = field(default_factory=lambda: Registry("task", ("options", "test_options")))
    presets: Registry[Preset] = field(default_factory=lambda: Registry("preset", problem=preset_problem))
    experiments: Registry[ExperimentFactory] = field(default_factory=lambda: Registry("experiment"))
    references: Registry[ReferenceFactory] = field(default_factory=lambda: Registry("reference"))

    def registries(self) -> dict[str, Registry[Any]]:
        """Hook name → the registry it fills, for every kind."""
        return {f"register_{name}": getattr(self, name) for name in registry_fields()}

    def info(self, name: str) -> PluginInfo:
        """The :class:`PluginInfo` of plugin ``name``."""
        return next(info for info in self.infos if info.name == name)

    def versions(self) -> dict[str, str]:
        """Name → version of every plugin that loaded, for provenance."""
        return {info.name: info.version for info in self.infos if info.status == "ok"}

    def fail(self, name: str, error: BaseException) -> None:
        """Mark plugin ``name`` failed after it has loaded (e.g. its ``register_commands`` raised): it
        then contributes nothing, neither commands nor algorithms, models, tasks or presets."""
        for registry in self.registries().values():
            registry.remove_plugin(name)
        if self.manager.has_plugin(name):
            self.manager.unregister(name=name)
        _fail(self.info(name), error)

    def add(self, name: str, plugin: Any, version: str = "unknown") -> PluginInfo:
        """Register ``plugin`` (a module or object with hook implementations) and run its hooks."""
        info = PluginInfo(name, version)
        self.infos.append(info)
        try:
            self.manager.register(plugin, name=name)
            self.manager.check_pending()
        except Exception as error:  # noqa: BLE001 - any plugin failure is reported, never fatal
            self.manager.unregister(name=name)
            return _fail(info, error)
        try:
            self._collect(name)
        except Exception as error:  # noqa: BLE001
            self.manager.unregister(name=name)
            return _fail(info, error)
        return info

    def _collect(self, name: str) -> None:
        # Registrars hold every entry back until all hooks have run: a hook that raises half-way registers nothing.
        registrars = {hook: Registrar(registry, name) for hook, registry in self.registries().items()}
        for hook_name, registrar in registrars.items():
            for impl in getattr(self.manager.hook, hook_name).get_hookimpls():
                if impl.plugin_name == name:
                    impl.function(register=registrar)
        for registrar in registrars.values():
            registrar.commit()


def registry_fields() -> list[str]:
    """The names of :class:`Plugins`' registries, in declaration order."""
    return [item.name for item in fields(Plugins) if str(item.type).startswith("Registry[")]


def _fail(info: PluginInfo, error: BaseException) -> PluginInfo:
    info.status = "failed"
    info.error = f"{type(error).__name__}: {error}{where(error)}"
    return info


def where(error: BaseException) -> str:
    """`` (at FILE:LINE)``: where ``error`` was raised (for a SyntaxError, the line it points at), in the
    plugin's own code where it passes through it: a registration the engine refuses, or a removed name of
    ``metaframe.api`` a plugin imports, points at the plugin's line, not the engine's."""
    if isinstance(error, SyntaxError) and error.filename:
        return f" (at {error.filename}:{error.lineno})"
    frames = traceback.extract_tb(error.__traceback__)
    theirs = [call for call in frames if not Path(call.filename).is_relative_to(ENGINE)] or frames
    return f" (at {theirs[-1].filename}:{theirs[-1].lineno})" if theirs else ""


def new_manager() -> pluggy.PluginManager:
    """A plugin manager that knows metaframe's hook specifications."""
    manager = pluggy.PluginManager(GROUP)
    manager.add_hookspecs(hookspecs)
    return manager


def load_plugins(
    entry_points: Iterable[importlib.metadata.EntryPoint] | None = None,
    extra: Iterable[tuple[str, ModuleType | object]] = (),
) -> Plugins:
    """Load plugins from ``entry_points`` (default: the installed ``metaframe`` group) and ``extra``.

    ``extra`` is a list of ``(name, plugin)`` pairs, for tests and scripts that register a plugin
    without installing it.
    """
    plugins = Plugins(new_manager())
    if entry_points is None:
        entry_points = importlib.metadata.entry_points(group=GROUP)
    for entry_point in sorted(entry_points, key=lambda ep: ep.name):
        version = entry_point.dist.version if entry_point.dist else "unknown"
        try:
            module = entry_point.load()
        except Exception as error:  # noqa: BLE001 - a broken plugin must not break the CLI
            plugins.infos.append(_fail(PluginInfo(entry_point.name, version), error))
            continue
        plugins.add(entry_point.name, module, version)
    for name, plugin in extra:
        plugins.add(name, plugin)
    return plugins


_active: list[Plugins] = []


@functools.cache
def installed_plugins() -> Plugins:
    """The installed plugins, loaded once per process."""
    return load_plugins()


def get_plugins() -> Plugins:
    """The plugins in use: those made active by :func:`use_plugins`, else the installed ones."""
    return _active[-1] if _active else installed_plugins()


@contextlib.contextmanager
def use_plugins(plugins: Plugins) -> Iterator[Plugins]:
    """Make ``plugins`` the ones every command sees inside the block (tests, scripts)."""
    _active.append(plugins)
    try:
        yield plugins
    finally:
        _active.pop()

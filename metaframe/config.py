"""Configuration: dataclasses with documented defaults, TOML files, ``--set`` overrides, presets.

A :class:`Config` (the resolved configuration of a run or an evaluation) is the algorithm, model and task
names, the engine's :class:`Settings`, and three free-form option tables, one per plugin
(``[algorithm]``, ``[model]``, ``[task]``). Each plugin turns its table into its own dataclass with
:func:`parse_options`, which rejects unknown keys and converts strings given on the command line.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import re
import tomllib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from metaframe.errors import UsageError

SECTIONS = ("algorithm", "model", "task")
T = TypeVar("T")
INNER_SCHEDULES = ("hold-then-decay", "constant", "linear")
"""The inner learning-rate schedules :func:`metaframe.loop.inner_lr_factor` knows."""
REMOVED_SCHEDULES = {"paper": ("0.2.0", "hold-then-decay")}
"""Inner schedule names no longer accepted: the version that removed each, and the name to use instead."""


def check_schedule(name: str) -> None:
    """Raise :class:`UsageError` unless ``name`` is one of :data:`INNER_SCHEDULES`; a removed name says
    what replaced it."""
    if name in REMOVED_SCHEDULES:
        version, replacement = REMOVED_SCHEDULES[name]
        raise UsageError(f"inner_schedule {name!r} was removed in {version}; use {replacement}")
    if name not in INNER_SCHEDULES:
        raise UsageError(f"inner_schedule must be {', '.join(INNER_SCHEDULES)}, got {name!r}")


@dataclass
class Settings:
    """The engine's knobs, shared by every algorithm, model and task.

    :param k: support examples per task (K).
    :param t: inner (personalization) iterations per task (T).
    :param meta_iterations: number of outer steps (0: none; the run folder holds the starting weights).
    :param meta_batch: tasks per outer step.
    :param seed: seeds task sampling and initialization; runs with equal seeds are identical on CPU.
    :param device: ``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``.
    :param inner_schedule: inner learning rate over T iterations: ``hold-then-decay`` (constant for T/2,
        then linear decay to 0), ``constant`` or ``linear`` (decay from the first iteration).
    :param checkpoint_every: save resumable state every N meta-iterations (and always at the end).
    :param sample_every: save a sample picture every N meta-iterations (0: only at the end).
    :param log_every: write a metrics line every N meta-iterations.
    """

    k: int = 5
    t: int = 20
    meta_iterations: int = 300
    meta_batch: int = 1
    seed: int = 0
    device: str = "auto"
    inner_schedule: str = "hold-then-decay"
    checkpoint_every: int = 50
    sample_every: int = 0
    log_every: int = 1

    def __post_init__(self) -> None:
        for name in ("k", "meta_batch", "checkpoint_every", "log_every"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be at least 1, got {getattr(self, name)}")
        # t = 0: eval scores the weights as given (meta-training refuses it); meta_iterations = 0: a run
        # that trains nothing, its folder holding the starting weights (e.g. a model's shipped ones)
        for name in ("t", "meta_iterations", "sample_every"):
            if getattr(self, name) < 0:
                raise UsageError(f"{name} must be 0 or more, got {getattr(self, name)}")
        if not 0 <= self.seed < 2**63:
            raise UsageError(f"seed must be between 0 and 2**63 - 1, got {self.seed}")
        if not re.fullmatch(r"auto|cpu|cuda(:\d+)?|mps", self.device):
            raise UsageError(f"--device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        check_schedule(self.inner_schedule)


@dataclass(frozen=True)
class Preset:
    """A named configuration: which algorithm, model and task, and the settings and options to use.

    :param algorithm: the algorithm it is for, or ``None`` for defaults that suit any algorithm.
    :param settings: :class:`Settings` fields, e.g. ``{"k": 5, "t": 20}``.
    :param options: per-plugin option tables, e.g. ``{"algorithm": {"epsilon": 1.0}}``.
    """

    algorithm: str | None
    model: str
    task: str
    settings: dict[str, Any] = field(default_factory=dict)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)


def preset_problem(preset: object) -> str | None:
    """What makes ``preset`` wrong whatever else is installed, or None; checked when a plugin registers it
    (that its names are registered and its tables parse is checked when it is used:
    :func:`metaframe.resolve.check_preset_options`)."""
    if not isinstance(preset, Preset):
        return f"is a {type(preset).__name__}, not a metaframe.api.Preset"
    tables = sorted(set(preset.options) - set(SECTIONS))
    if tables:
        return f"has option table {tables[0]!r}; a preset's tables are {', '.join(SECTIONS)}"
    if preset.algorithm is None and preset.options.get("algorithm"):
        return "sets algorithm options but is for any algorithm; name the algorithm they are for"
    try:
        parse_options(Settings, dict(preset.settings), "run")
    except UsageError as error:
        return f"settings: {error}"
    return None


@dataclass
class Config:
    """A resolved configuration: everything that determines a run (or an evaluation): names, engine settings
    and plugin options, each layer (preset, config file, ``--set``, explicit values) applied."""

    algorithm: str
    model: str
    task: str
    settings: Settings = field(default_factory=Settings)
    options: dict[str, dict[str, Any]] = field(default_factory=lambda: {s: {} for s in SECTIONS})
    preset: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-serializable view, as stored in ``run.json``."""
        return {
            "algorithm": self.algorithm,
            "model": self.model,
            "task": self.task,
            "preset": self.preset,
            "settings": dataclasses.asdict(self.settings),
            "options": self.options,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Config:
        """Inverse of :meth:`to_json`."""
        return cls(
            data["algorithm"],
            data["model"],
            data["task"],
            Settings(**data["settings"]),
            {section: dict(data["options"].get(section, {})) for section in SECTIONS},
            data.get("preset"),
        )


def differences(before: Config, after: Config, ignore: tuple[str, ...] = ()) -> list[str]:
    """What ``after`` sets differently from ``before``, one phrase each (``"k=5, not k=8"``): the
    algorithm, model, task and preset, engine settings by name, plugin options as ``model.KEY``."""
    found = [
        f"{key}={getattr(before, key)}, not {key}={getattr(after, key)}"
        for key in ("algorithm", "model", "task", "preset")
        if getattr(before, key) != getattr(after, key)
    ]
    settings_before, settings_after = dataclasses.asdict(before.settings), dataclasses.asdict(after.settings)
    for key, value in settings_before.items():
        if key not in ignore and settings_after[key] != value:
            found.append(f"{key}={value}, not {key}={settings_after[key]}")
    for section in SECTIONS:
        old, new = before.options[section], after.options[section]
        for key in sorted(set(old) | set(new)):
            if str(old.get(key)) != str(new.get(key)):
                name = f"{section}.{key}"
                was = f"{name}={old[key]}" if key in old else f"{name} at its default"
                found.append(f"{was}, not {name}={new.get(key, '(default)')}")
    return found


@dataclass(frozen=True)
class NoOptions:
    """The options of a thing registered without ``options=``: none (any key given is refused)."""


def parse_options(cls: type[T], options: dict[str, Any] | T, where: str) -> T:
    """Build dataclass ``cls`` from ``options``, converting strings and rejecting unknown keys.

    The engine parses a registration's options before it calls the factory; ``options`` already a ``cls``
    comes back as it is, so that a factory written before 0.2.0, which parsed them itself, keeps working.

    An option a plugin has removed is refused with what replaced it: ``cls`` lists them in a class
    attribute ``removed_options = {"name": "what to do instead"}``.

    :param where: how the user spells this table (``"model"`` → ``--set model.KEY=...``), for errors.
    """
    if isinstance(options, cls):
        return options
    assert isinstance(options, dict)
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    removed: dict[str, str] = dict(getattr(cls, "removed_options", {}))
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in options.items():
        if key in removed:
            raise UsageError(f"option {where}.{key} was removed; {removed[key]}")
        if key not in known:
            raise UsageError(f"unknown option {where}.{key}; {unknown_hint(key, known, removed, where)}")
        values[key] = coerce(value, hints[key], f"{where}.{key}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise UsageError(f"bad {where} options: {error}") from None


def unknown_hint(key: str, known: Iterable[str], removed: dict[str, str], where: str) -> str:
    """What to say of an unknown option: the nearest known one, a removed one it resembles, or the list."""
    close = difflib.get_close_matches(key, [*known, *removed], n=1)
    if close and close[0] in removed:
        return f"{where}.{close[0]} was removed; {removed[close[0]]}"
    return f"did you mean {where}.{close[0]}?" if close else f"known: {', '.join(sorted(known))}"


def coerce(value: Any, hint: Any, name: str) -> Any:
    """Convert ``value`` (often a string from ``--set``) to the type ``hint``; bad values are UsageError."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
            return None
        return coerce(value, args[0], name)
    if origin in (list, tuple) and isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if origin in (list, tuple):
        members = typing.get_args(hint)
        (item,) = members[:1] or (Any,)
        values = value if isinstance(value, (list, tuple)) else [value]
        if origin is tuple and members and members[-1] is not Ellipsis and len(values) != len(members):
            example = ",".join(["1"] * len(members))
            raise UsageError(f"{name} takes {len(members)} values separated by commas (e.g. {example}), got {value!r}")
        converted = [coerce(v, item, name) for v in values]
        return tuple(converted) if origin is tuple else converted
    if hint is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise UsageError(f"{name} must be true or false, got {value!r}")
    if hint in (int, float):
        try:
            number = hint(value)
        except (TypeError, ValueError):
            raise UsageError(f"{name} must be {'an integer' if hint is int else 'a number'}, got {value!r}") from None
        if hint is int and isinstance(value, float) and value != number:
            raise UsageError(f"{name} must be an integer, got {value!r}")
        if hint is float and not math.isfinite(number):
            raise UsageError(f"{name} must be a finite number, got {value!r}")
        return number
    if hint in (str, Path):
        return hint(value)
    return value


def parse_assignment(text: str) -> tuple[str, str]:
    """Split ``"a.b=value"`` into ``("a.b", "value")``; anything else is a UsageError."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--set expects KEY=VALUE (e.g. model.scale=tiny), got {text!r}")
    return key.strip(), value.strip()


def read_toml(path: Path) -> dict[str, Any]:
    """Read a run configuration file; a missing or malformed file is a UsageError."""
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"config file {path} does not exist") from None
    except UnicodeDecodeError:
        raise UsageError(f"config file {path} is not text (TOML is UTF-8); give a .toml file") from None
    except OSError as error:
        raise UsageError(f"config file {path} cannot be read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"config file {path} is not valid TOML: {error}") from None


def merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """A flat-or-sectioned layer of settings applied over ``base`` (one level of nesting)."""
    merged = json.loads(json.dumps(base))
    for key, value in layer.items():
        if isinstance(value, dict):
            merged.setdefault(key, {}).update(value)
        else:
            merged[key] = value
    return merged


def build_config(
    algorithm: str,
    model: str,
    task: str,
    layers: list[dict[str, Any]],
    preset_name: str | None = None,
    preset: Preset | None = None,
) -> Config:
    """Resolve a run: preset, then each layer in order (config file, ``--set``, explicit options).

    Each layer is ``{"k": 5, "model": {"scale": "tiny"}, ...}``: top-level keys are
    :class:`Settings` fields, sections are plugin options.
    """
    resolved: dict[str, Any] = {section: {} for section in SECTIONS}
    if preset is not None:
        resolved = merge(resolved, {**preset.settings, **preset.options})
    for layer in layers:
        resolved = merge(resolved, layer)
    options = {section: resolved.pop(section) for section in SECTIONS}
    settings = parse_options(Settings, resolved, "run")
    return Config(algorithm, model, task, settings, options, preset_name)


def assignments_to_layer(assignments: list[str]) -> dict[str, Any]:
    """Turn ``["k=5", "model.scale=tiny"]`` into a layer for :func:`build_config`."""
    layer: dict[str, Any] = {}
    for text in assignments:
        key, value = parse_assignment(text)
        section, dot, rest = key.partition(".")
        if dot and section in SECTIONS:
            layer.setdefault(section, {})[rest] = value
        elif dot:
            raise UsageError(f"--set {key}: the part before the dot must be one of {', '.join(SECTIONS)}")
        else:
            layer[key] = value
    return layer

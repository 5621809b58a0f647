"""Named registries of algorithms, models, tasks and presets, and the typed ``register`` callback that
fills them.

A hook receives a :class:`Registrar` as ``register``; each call becomes one frozen :class:`Entry` that
says everything the engine may know about the thing before building it (its summary, the model
capabilities an algorithm requires, its options dataclass, its smallest options for tests).
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from metaframe.errors import PluginError, UsageError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*([-_][a-z0-9]+)*$")
DECLARATIONS = ("requires", "options", "test_options")
"""The keyword declarations ``register`` takes besides name, factory and summary."""


@dataclass(frozen=True)
class Entry:
    """One registered thing, as its plugin declared it.

    :param name: the name users type on the command line.
    :param factory: what builds it (for a preset: the :class:`metaframe.config.Preset` itself).
    :param summary: one line for ``metaframe plugins``.
    :param plugin: the plugin that registered it.
    :param requires: (algorithms) the model capabilities it needs; checked before anything is built.
    :param options: the options dataclass its factory parses, for docs, tools and the contract tests.
    :param test_options: its smallest options, which the contract tests build it with.
    """

    name: str
    factory: Any
    summary: str
    plugin: str
    requires: frozenset[str] = frozenset()
    options: type | None = None
    test_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def summary_of(factory: Any) -> str:
    """The first sentence of ``factory``'s docstring (its first paragraph, lines joined), or an empty string."""
    doc = inspect.cleandoc(getattr(factory, "__doc__", None) or "")
    paragraph = " ".join(doc.split("\n\n")[0].split())
    end = paragraph.find(". ")
    return paragraph if end < 0 else paragraph[: end + 1]


def factory_declarations(factory: Any) -> list[str]:
    """The declarations (of :data:`DECLARATIONS`) stuck on ``factory`` as attributes, as plugins did before
    the typed registrar; 0.2.0 reads them no more, so :class:`Registrar` refuses such a factory."""
    return [key for key in DECLARATIONS if inspect.isfunction(factory) and hasattr(factory, key)]


class Registry:
    """A mapping from names to :class:`Entry`, for one kind of thing (``"algorithm"``, ``"model"`` ...).

    :param accepts: the keyword declarations (of :data:`DECLARATIONS`) this kind takes.
    :param problem: what is wrong with a factory of this kind on its own (None: nothing), checked when a
        plugin registers it (e.g. :func:`metaframe.config.preset_problem`).
    """

    def __init__(
        self, kind: str, accepts: Iterable[str] = (), problem: Callable[[Any], str | None] | None = None
    ) -> None:
        self.kind = kind
        self.accepts = frozenset(accepts)
        self.problem = problem
        self._entries: dict[str, Entry] = {}

    def add(self, entry: Entry) -> None:
        """Register ``entry``; duplicate or malformed names are :class:`PluginError`."""
        self.check_new(entry.name, entry.plugin)
        self._entries[entry.name] = entry

    def check_new(self, name: str, plugin: str) -> None:
        """Raise :class:`PluginError` unless ``plugin`` may register ``name`` here."""
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise PluginError(
                f"plugin {plugin!r} registers {self.kind} {name!r}: names are lower-case words joined by - or _"
            )
        if name in self._entries:
            other = self._entries[name].plugin
            raise PluginError(f"{self.kind} {name!r} is registered by both plugin {other!r} and {plugin!r}")

    def check_declarations(self, name: str, plugin: str, declared: Iterable[str]) -> None:
        """Raise :class:`PluginError` when ``plugin`` declares for ``name`` what this kind does not take."""
        refused = sorted(set(declared) - self.accepts)
        if refused:
            takes = ", ".join(sorted(self.accepts)) or "none"
            raise PluginError(
                f"plugin {plugin!r} registers {self.kind} {name!r} with {', '.join(refused)}: "
                f"a {self.kind} takes {takes}"
            )

    def get(self, name: str) -> Entry:
        """The entry called ``name``; an unknown name is a :class:`UsageError` suggesting close ones."""
        if name in self._entries:
            return self._entries[name]
        close = difflib.get_close_matches(name, list(self._entries), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(sorted(self._entries))}"
        raise UsageError(f"unknown {self.kind} {name!r}; {hint} (see `metaframe plugins`)")

    def remove_plugin(self, plugin: str) -> None:
        """Forget everything ``plugin`` registered here."""
        self._entries = {name: entry for name, entry in self._entries.items() if entry.plugin != plugin}

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(sorted(self._entries.values(), key=lambda entry: entry.name))

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)


class Registrar:
    """The ``register`` callback one plugin's hook receives for one registry (it implements
    :class:`metaframe.hookspecs.Register`).

    Calls are checked at once (name, duplicates, declarations) but held back until :meth:`commit`, so a
    hook that raises half-way registers nothing.
    """

    def __init__(self, registry: Registry, plugin: str) -> None:
        self.registry, self.plugin = registry, plugin
        self.pending: dict[str, Entry] = {}

    def __call__(
        self,
        name: str,
        factory: Any,
        summary: str | None = None,
        *,
        requires: Iterable[str] | None = None,
        options: type | None = None,
        test_options: Mapping[str, Any] | None = None,
    ) -> None:
        """Register ``factory`` under ``name`` (see :class:`Entry` for what each argument means)."""
        given: dict[str, Any] = {"requires": requires, "options": options, "test_options": test_options}
        self.registry.check_declarations(name, self.plugin, [key for key, value in given.items() if value is not None])
        self.registry.check_new(name, self.plugin)
        if name in self.pending:
            raise PluginError(f"plugin {self.plugin!r} registers {self.registry.kind} {name!r} twice")
        self.refuse_attributes(name, factory)
        problem = self.registry.problem(factory) if self.registry.problem else None
        if problem:
            raise PluginError(f"plugin {self.plugin!r} registers {self.registry.kind} {name!r}, which {problem}")
        self.pending[name] = Entry(
            name,
            factory,
            summary or summary_of(factory),
            self.plugin,
            frozenset(requires or ()),
            options,
            MappingProxyType(dict(test_options or {})),
        )

    def refuse_attributes(self, name: str, factory: Any) -> None:
        """Raise :class:`PluginError` when ``factory`` carries its declarations as attributes (removed in 0.2.0)."""
        stuck = factory_declarations(factory)
        if stuck:
            keywords = ", ".join(f"{key}=..." for key in stuck)
            raise PluginError(
                f"plugin {self.plugin!r} registers {self.registry.kind} {name!r} with {', '.join(stuck)} set on its "
                f"factory; attributes on the factory were removed in 0.2.0: use register({name!r}, ..., {keywords})"
            )

    def commit(self) -> None:
        """Add every held-back entry to the registry."""
        for entry in self.pending.values():
            self.registry.add(entry)

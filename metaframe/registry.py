"""Named registries of algorithms, models, tasks and presets."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from metaframe.errors import PluginError, UsageError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*([-_][a-z0-9]+)*$")


@dataclass(frozen=True)
class Entry:
    """One registered thing: its name, the object that builds it, a one-line summary, its plugin."""

    name: str
    factory: Any
    summary: str
    plugin: str


def summary_of(factory: Any) -> str:
    """The first line of ``factory``'s docstring, or an empty string."""
    doc = getattr(factory, "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


class Registry:
    """A mapping from names to :class:`Entry`, for one kind of thing (``"algorithm"``, ``"model"`` ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}

    def add(self, name: str, factory: Any, summary: str | None, plugin: str) -> None:
        """Register ``factory`` under ``name``; duplicate or malformed names are :class:`PluginError`."""
        self.check_new(name, plugin)
        self._entries[name] = Entry(name, factory, summary or summary_of(factory), plugin)

    def check_new(self, name: str, plugin: str) -> None:
        """Raise :class:`PluginError` unless ``plugin`` may register ``name`` here."""
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise PluginError(
                f"plugin {plugin!r} registers {self.kind} {name!r}: names are lower-case words joined by - or _"
            )
        if name in self._entries:
            other = self._entries[name].plugin
            raise PluginError(f"{self.kind} {name!r} is registered by both plugin {other!r} and {plugin!r}")

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

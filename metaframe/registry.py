"""Named registries of algorithms, models, tasks and presets, and the typed ``register`` callback that
fills them.

A hook receives a :class:`Registrar` as ``register`` (its signature, written here once, is the
``register`` of every hook); each call becomes one frozen :class:`Entry` that says everything the engine
may know about the thing before building it (its summary, the model capabilities an algorithm requires,
its options dataclass, its smallest options for tests). :meth:`Entry.build` parses an option table as
that dataclass and hands the instance to the factory, so no factory parses its own options.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from metaframe.capabilities import not_capabilities
from metaframe.config import NoOptions, parse_options
from metaframe.errors import PluginError, UsageError
from metaframe.protocols import Capability

F = TypeVar("F")
"""What a registry holds: one of the factory protocols of :mod:`metaframe.factories` (or a preset)."""

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*([-_][a-z0-9]+)*$")
DECLARATIONS = ("requires", "options", "test_options", "weights_option")
"""The keyword declarations ``register`` takes besides name, factory and summary."""


@dataclass(frozen=True)
class Entry(Generic[F]):
    """One registered thing, as its plugin declared it.

    :param name: the name users type on the command line.
    :param factory: what builds it (for a preset: the :class:`metaframe.config.Preset` itself).
    :param summary: one line for ``metaframe plugins``.
    :param plugin: the plugin that registered it.
    :param requires: (algorithms) the model capabilities it needs; checked before anything is built.
    :param options: the options dataclass :meth:`build` parses its option table as (None: it takes none).
    :param test_options: its smallest options, which the contract tests build it with.
    :param kind: what it is (``"algorithm"``, ``"model"`` ...), as the option table is spelt (``--set model.KEY``).
    :param weights_option: (models) the field of ``options`` that names initial weights to load when the
        model is built (e.g. ``init``), or None. ``eval`` builds a model without it for an init that
        is not learned (``random``, a reference), so that row is scored on fresh weights even where the
        run's configuration names some. Declared here, not guessed from an option's name, because the
        engine must know it before the model exists; checked when the plugin registers.
    """

    name: str
    factory: F
    summary: str
    plugin: str
    requires: frozenset[Capability] = frozenset()
    options: type | None = None
    test_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    kind: str = ""
    weights_option: str | None = None

    def parse(self, table: Mapping[str, Any]) -> Any:
        """``table`` (an ``[algorithm]`` / ``[model]`` / ``[task]`` table, ``--set`` values as strings) as
        an instance of the declared options dataclass; without one, a :class:`NoOptions` (any key is refused)."""
        if self.options is None and table:
            key = next(iter(table))
            raise UsageError(f"unknown option {self.kind}.{key}; {self.kind} {self.name!r} takes no options")
        return parse_options(self.options or NoOptions, dict(table), self.kind)

    def build(self, table: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
        """Parse ``table`` (:meth:`parse`) and call the factory with the options instance first, then
        ``args`` and ``kwargs`` (the rest of its kind's call shape, :mod:`metaframe.factories`)."""
        build: Any = self.factory
        return build(self.parse(table), *args, **kwargs)


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


class Registry(Generic[F]):
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
        self._entries: dict[str, Entry[F]] = {}

    def add(self, entry: Entry[F]) -> None:
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
                f"{'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind} takes {takes}"
            )

    def get(self, name: str) -> Entry[F]:
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

    def __iter__(self) -> Iterator[Entry[F]]:
        return iter(sorted(self._entries.values(), key=lambda entry: entry.name))

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)


class Registrar(Generic[F]):
    """The ``register`` callback one plugin's hook receives for one registry (``metaframe.api.Register``).

    Calls are checked at once (name, duplicates, declarations, the factory's call shape) but held back
    until :meth:`commit`, so a hook that raises half-way registers nothing.
    """

    def __init__(self, registry: Registry[F], plugin: str) -> None:
        self.registry, self.plugin = registry, plugin
        self.pending: dict[str, Entry[F]] = {}

    def __call__(
        self,
        name: str,
        factory: F,
        summary: str | None = None,
        *,
        requires: Iterable[Capability] | None = None,
        options: type | None = None,
        test_options: Mapping[str, Any] | None = None,
        weights_option: str | None = None,
    ) -> None:
        """Register ``factory`` under ``name``.

        :param name: lower-case words joined by ``-`` or ``_``, unique per kind across all plugins.
        :param factory: what builds the thing, called as its kind's protocol in :mod:`metaframe.factories`
            says (for presets: the :class:`metaframe.config.Preset` itself).
        :param summary: one line for ``metaframe plugins``; default: the first sentence of the factory's docstring.
        :param requires: (algorithms only) the model capabilities needed (:class:`Capability` values, not
            strings), checked before anything is built.
        :param options: (algorithms, models, tasks) the options dataclass the engine parses the option
            table as, before it calls the factory with the instance; None: the thing takes no options.
        :param test_options: (algorithms, models, tasks) the smallest options, used by the contract tests.
        :param weights_option: (models only) the field of ``options``, default None, that names initial
            weights to load when the model is built (:attr:`Entry.weights_option`).
        """
        given: dict[str, Any] = {
            "requires": requires,
            "options": options,
            "test_options": test_options,
            "weights_option": weights_option,
        }
        self.registry.check_declarations(name, self.plugin, [key for key, value in given.items() if value is not None])
        self.registry.check_new(name, self.plugin)
        if name in self.pending:
            raise PluginError(f"plugin {self.plugin!r} registers {self.registry.kind} {name!r} twice")
        self.refuse_attributes(name, factory)
        self.refuse_strings(name, factory, requires)
        self.refuse_dict_options(name, factory, options)
        self.refuse_weights_option(name, options, weights_option)
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
            self.registry.kind,
            weights_option,
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

    def refuse_strings(self, name: str, factory: Any, requires: Iterable[Capability] | None) -> None:
        """Raise :class:`PluginError` when ``requires``, or a class factory's own ``requires`` or
        ``capabilities``, holds something that is not a :class:`Capability` (a string, before 0.2.0)."""
        declared = [("requires", [requires] if isinstance(requires, str) else list(requires or ()))]
        if inspect.isclass(factory):
            declared += [("requires", list(getattr(factory, "requires", ())))]
            declared += [("declares", list(getattr(factory, "capabilities", ())))]
        for verb, values in declared:
            if errors := not_capabilities(values, verb):
                raise PluginError(f"plugin {self.plugin!r} registers {self.registry.kind} {name!r}, which {errors[0]}")

    def refuse_weights_option(self, name: str, options: type | None, weights_option: str | None) -> None:
        """Raise :class:`PluginError` unless ``weights_option`` is None or a field of ``options`` whose
        default is None (so that leaving it out builds the model on fresh weights)."""
        if weights_option is None:
            return
        fields = {f.name: f for f in dataclasses.fields(options)} if dataclasses.is_dataclass(options) else {}
        if weights_option not in fields or fields[weights_option].default is not None:
            what = options.__name__ if options is not None else "no options dataclass"
            raise PluginError(
                f"plugin {self.plugin!r} registers {self.registry.kind} {name!r} with weights_option="
                f"{weights_option!r}, which is not a field of {what} defaulting to None (no weights)"
            )

    def refuse_dict_options(self, name: str, factory: Any, options: type | None) -> None:
        """Raise :class:`PluginError` when ``factory`` still says it takes its options as a dict (before
        0.2.0 the factory parsed them; now the engine passes the parsed dataclass instance)."""
        if "options" not in self.registry.accepts or not takes_a_dict(factory):
            return
        fix = (
            f"annotate them as {options.__name__} and drop parse_options from the factory"
            if options is not None
            else "declare an options dataclass with register(..., options=...), or annotate them as NoOptions"
        )
        raise PluginError(
            f"plugin {self.plugin!r} registers {self.registry.kind} {name!r} with a factory whose options are a dict; "
            f"since 0.2.0 the engine parses them and passes the dataclass instance: {fix}"
        )

    def commit(self) -> None:
        """Add every held-back entry to the registry."""
        for entry in self.pending.values():
            self.registry.add(entry)


def takes_a_dict(factory: Any) -> bool:
    """Whether ``factory``'s first parameter is annotated as a dict or mapping (the options before 0.2.0)."""
    try:
        parameters = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):  # a builtin or an object without a signature: nothing to read
        return False
    if not parameters or parameters[0].annotation is inspect.Parameter.empty:
        return False
    annotation = parameters[0].annotation
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return re.match(r"^(typing\.|collections\.abc\.|<class ')?(dict|Dict|Mapping|MutableMapping)\b", text) is not None

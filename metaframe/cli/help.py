"""``--help`` anyone can read: every option's value named in words, never in Python's types.

typer shows an option without a metavar by its annotation (``<int range> [x>=1]``, ``<list[str]>``,
``{algorithm}``, and ``<bool>`` after ``--help`` itself). Options that name their value keep it; for
the rest, :func:`name_values` derives a word from the value's kind once the command tree is built, so
plugin commands get the same treatment as the core's.
"""

from __future__ import annotations

from typing import Any

import typer

WORDS = {"int": "N", "float": "X", "path": "PATH", "file": "FILE", "directory": "DIR", "bool": ""}


def value_word(param: Any, ctx: Any) -> str:
    """The word for ``param``'s value: flags show none, numbers N or X, paths PATH or FILE, text its name."""
    if getattr(param, "is_flag", False):
        return ""
    shown = param.display_type(ctx).strip("<>").removeprefix("list[").removesuffix("]")
    kind = shown.split()[0].lower() if shown else "str"
    return WORDS.get(kind, (param.name or "value").upper())


def range_words(low: Any, high: Any) -> str | None:
    """``[x>=1]`` said as ``at least 1`` (or ``from 0 to 1``)."""
    if low is not None and high is not None:
        return f"from {low} to {high}"
    if low is not None:
        return f"at least {low}"
    return f"at most {high}" if high is not None else None


def say_argument_plainly(param: Any) -> None:
    """An argument is its metavar alone: ``ALGORITHM`` in the usage line (typer writes ``{ALGORITHM}``
    for a required one) and no Python type beside it in the table."""
    usage = param.metavar + ("..." if param.nargs != 1 else "")
    param.get_usage_pieces = lambda ctx: [usage if param.required else f"[{usage}]"]
    param.display_type_rich = lambda ctx: None


def name_values(command: Any, ctx: Any | None = None) -> None:
    """Give every parameter of ``command`` and of its subcommands (and each ``--help``) a metavar in words."""
    ctx = ctx or typer._click.Context(command, info_name=command.name)
    params = list(command.params) + [command.get_help_option(ctx)]
    for param in filter(None, params):
        if param.metavar is None:
            param.metavar = value_word(param, ctx)
        if param.param_type_name == "argument":
            say_argument_plainly(param)
        low, high = getattr(param, "min", None), getattr(param, "max", None)
        if low is not None or high is not None:
            words = range_words(low, high)
            param._get_number_range_help_str = lambda words=words: words  # typer's own text is x>=1
    for sub in getattr(command, "commands", {}).values():
        name_values(sub, typer._click.Context(sub, info_name=sub.name, parent=ctx))

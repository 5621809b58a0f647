"""Signatures as the reference pages write them, and as the code has them, in one comparable form.

A documented signature is a code span that reads as a ``def`` line without its ``def``, e.g.
``snapshot(networks: Networks, names: Iterable[str] | None = None) -> State``. :func:`written` renders
an object's signature the same way (annotations as the source writes them, which ``from __future__ import
annotations`` keeps as strings); :func:`documented_parts` and :func:`real_parts` reduce either to
parameter names, kinds, annotations, defaults and the return type, so that spacing and quotes do not
matter but everything else does.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

SPAN = re.compile(r"`([^`]+)`")
CALLED = ("factory", "register")
"""How the pages call an instance of a factory protocol or of the registrar: its ``__call__``."""
Parts = tuple[tuple[tuple[str, str, str | None, str | None], ...], str | None]


def expression(text: str) -> str:
    """``text`` as Python unparses it (so ``'a'`` and ``"a"``, ``dict[str,int]`` and ``dict[str, int]`` agree)."""
    try:
        return ast.unparse(ast.parse(text, mode="eval"))
    except SyntaxError:
        return text


def annotation(value: Any) -> str | None:
    """An annotation as the source wrote it (None when there is none)."""
    if value is inspect.Parameter.empty or value is inspect.Signature.empty:
        return None
    return expression(value if isinstance(value, str) else inspect.formatannotation(value))


def callable_of(owner: Any, name: str) -> Callable[..., Any]:
    """What a documented ``name(...)`` describes: ``owner`` itself (a function or a class: its constructor),
    a method of the class ``owner``, or, for ``factory``/``register``, the ``__call__`` of ``owner``."""
    if getattr(owner, "__name__", None) == name or name not in dir(owner):
        return owner.__call__ if name in CALLED else owner
    return getattr(owner, name)


def default(target: Any, parameter: inspect.Parameter) -> str | None:
    """A parameter's default as source text (a dataclass field's ``default_factory`` as what it makes)."""
    if parameter.default is parameter.empty:
        return None
    if parameter.default is getattr(dataclasses, "_HAS_DEFAULT_FACTORY", None):
        field = {f.name: f for f in dataclasses.fields(target)}[parameter.name]
        return expression(repr(field.default_factory()))  # type: ignore[misc]
    return expression(repr(parameter.default))


def real_parts(owner: Any, name: str) -> Parts:
    """The signature of what ``name`` documents on ``owner``, reduced to comparable parts."""
    target = callable_of(owner, name)
    signature = inspect.signature(target)
    parameters = list(signature.parameters.values())
    if parameters and parameters[0].name == "self":
        parameters = parameters[1:]  # a method read from its class, or a __call__
    returns = None if inspect.isclass(target) else annotation(signature.return_annotation)
    return tuple((p.name, p.kind.name, annotation(p.annotation), default(target, p)) for p in parameters), returns


def documented_parts(span: str) -> tuple[str, Parts] | None:
    """The name and parts of a code span that reads as a signature (None for anything else: a call with
    values, an expression, a name)."""
    try:
        function = ast.parse(f"def {span}: ...").body[0]
    except SyntaxError:
        return None
    assert isinstance(function, ast.FunctionDef)
    args = function.args
    kinds = [(a, "POSITIONAL_ONLY") for a in args.posonlyargs] + [(a, "POSITIONAL_OR_KEYWORD") for a in args.args]
    defaults = [None] * (len(kinds) - len(args.defaults)) + list(args.defaults)
    listed = [(a, kind, default) for (a, kind), default in zip(kinds, defaults)]
    if args.vararg:
        listed.append((args.vararg, "VAR_POSITIONAL", None))
    listed += [(a, "KEYWORD_ONLY", d) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    if args.kwarg:
        listed.append((args.kwarg, "VAR_KEYWORD", None))
    parameters = tuple(
        (a.arg, kind, ast.unparse(a.annotation) if a.annotation else None, ast.unparse(d) if d else None)
        for a, kind, d in listed
    )
    return function.name, (parameters, ast.unparse(function.returns) if function.returns else None)


def written(owner: Any, name: str) -> str:
    """The signature of what ``name`` documents on ``owner``, written as the reference pages write it."""
    parameters, returns = real_parts(owner, name)
    text, star = [], False
    for index, (parameter, kind, note, default) in enumerate(parameters):
        if kind == "KEYWORD_ONLY" and not star:
            text.append("*")
        star = star or kind in ("KEYWORD_ONLY", "VAR_POSITIONAL")
        prefix = {"VAR_POSITIONAL": "*", "VAR_KEYWORD": "**"}.get(kind, "")
        piece = f"{prefix}{parameter}" + (f": {note}" if note else "")
        text.append(piece + ((" = " if note else "=") + default if default else ""))
        following = parameters[index + 1][1] if index + 1 < len(parameters) else None
        if kind == "POSITIONAL_ONLY" and following != "POSITIONAL_ONLY":
            text.append("/")
    return f"{name}({', '.join(text)})" + (f" -> {returns}" if returns else "")


def signature_spans(text: str, names: dict[str, Any]) -> Iterator[tuple[str, Any, str, str]]:
    """``(line, owner, name, span)`` for every documented signature of ``text``: each table row or
    paragraph line is owned by the first code span in it that is one of ``names`` (a row of the
    ``TaskModel`` owns its methods' signatures), and a span that reads as a signature of the owner, of one
    of its methods or of another of ``names`` is yielded."""
    for line in text.splitlines():
        spans = SPAN.findall(line)
        owner = next((names[span] for span in spans if span in names), None)
        for span in spans:
            found = documented_parts(span.replace("\\|", "|"))  # a table escapes the | of a union
            if found is None:
                continue
            name, span = found[0], span.replace("\\|", "|")
            if name in names:
                yield line, names[name], name, span
            elif owner is not None and (name in dir(owner) or (name in CALLED and "__call__" in vars(owner))):
                yield line, owner, name, span

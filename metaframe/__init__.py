"""metaframe: a plugin-based meta-learning framework for PyTorch.

The Python API does what the command line does and returns what it made instead of printing it:
:func:`run` (``metaframe run``), :func:`evaluate` (``metaframe eval``), :func:`compare` and
:func:`reproduce`; every mistake a caller can make raises :class:`UsageError` with the line the command
prints (docs/howto/python-api.md). Plugins import from :mod:`metaframe.api` instead.

Every name is imported on first use, so that importing the package is instant (the console script can
then catch Ctrl-C from its first moment).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Comparison",
    "RunResult",
    "Scores",
    "UsageError",
    "adapt",
    "compare",
    "evaluate",
    "hookimpl",
    "reproduce",
    "run",
]
__version__ = "0.2.0"

# name -> the module that defines it
_HOMES = {
    "Comparison": "metaframe.comparison",
    "RunResult": "metaframe.runs",
    "Scores": "metaframe.evaluation",
    "UsageError": "metaframe.errors",
    "adapt": "metaframe.loop",
    "compare": "metaframe.comparison",
    "evaluate": "metaframe.evaluation",
    "hookimpl": "metaframe.hookspecs",
    "reproduce": "metaframe.reproduction",
    "run": "metaframe.runs",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'metaframe' has no attribute {name!r}")

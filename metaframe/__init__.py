"""metaframe: a plugin-based meta-learning framework for PyTorch.

``hookimpl`` and ``adapt`` are imported on first use, so that importing the package is instant (the
console script can then catch Ctrl-C from its first moment).
"""

from __future__ import annotations

from typing import Any

__all__ = ["adapt", "hookimpl"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "hookimpl":
        from metaframe.hookspecs import hookimpl

        return hookimpl
    if name == "adapt":
        from metaframe.loop import adapt

        return adapt
    raise AttributeError(f"module 'metaframe' has no attribute {name!r}")

"""metaframe: a plugin-based meta-learning framework for PyTorch."""

from metaframe.hookspecs import hookimpl
from metaframe.loop import adapt

__all__ = ["adapt", "hookimpl"]
__version__ = "0.1.0"

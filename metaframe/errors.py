"""Errors a user can fix. The CLI prints them as one red line and exits with code 2; a Python caller of
:func:`metaframe.run` and its siblings gets a :class:`UsageError` with that line; bugs keep their traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class UsageError(Exception):
    """A mistake the user can fix (bad option, unknown name, unreadable file); the message says how."""


class PluginError(UsageError):
    """A plugin broke a rule at registration (duplicate name, bad name, misspelled hook)."""


class Diverged(UsageError):
    """Training produced a NaN or an infinity (a loss or a weight); the message names which and when."""


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal: Ctrl-C (SIGINT) or SIGTERM, as a scheduler or ``kill`` sends it."""

    last = "SIGINT"  # the signal that stopped the latest run, for the exit code (130 or 143)

    def __init__(self, signal_name: str = "SIGINT") -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name
        Interrupted.last = signal_name


OUT_OF_MEMORY = (
    "out of memory: the run asked for more than this machine has; use a smaller --k, --meta-batch, model size or batch"
)


def os_error_text(error: OSError) -> str:
    """One line for an OSError: the path, what the system said, what to do."""
    path = error.filename2 or error.filename
    where = f"{path}: " if path else ""
    return f"{where}{error.strerror or error}; check the path and its permissions, or the free disk space"


def out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is an allocation that failed (torch raises RuntimeError on the CPU)."""
    return isinstance(error, MemoryError) or "can't allocate memory" in str(error) or "out of memory" in str(error)


def check_counts(*, least: int = 1, **counts: int | None) -> None:
    """Refuse a count below ``least`` (``k=0``) in the words the command line uses for ``--k 0``."""
    for name, value in counts.items():
        if value is not None and value < least:
            flag = f"--{name.replace('_', '-')}"
            raise UsageError(f"Invalid value for '{flag}': Input should be greater than or equal to {least}")


def as_usage_errors(function: Callable[P, R]) -> Callable[P, R]:
    """A Python entry point whose every user error is a :class:`UsageError` with the line the command line
    prints: a path the system refuses and memory that cannot be had become one, as ``metaframe`` turns
    them into one red line."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except UsageError:
            raise
        except OSError as error:
            raise UsageError(os_error_text(error)) from error
        except (MemoryError, RuntimeError) as error:
            if not out_of_memory(error):
                raise
            raise UsageError(OUT_OF_MEMORY) from error

    return wrapper

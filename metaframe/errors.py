"""Errors a user can fix. The CLI prints them as one red line and exits with code 2; bugs keep their
traceback."""

from __future__ import annotations


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

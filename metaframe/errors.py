"""Errors a user can fix. The CLI prints them as one red line and exits with code 2; bugs keep their
traceback."""

from __future__ import annotations


class UsageError(Exception):
    """A mistake the user can fix (bad option, unknown name, unreadable file); the message says how."""


class PluginError(UsageError):
    """A plugin broke a rule at registration (duplicate name, bad name, misspelled hook)."""

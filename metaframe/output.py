"""The one place that prints: rich consoles for results (stdout) and messages (stderr).

Routing every line through here is what lets a distributed run keep all but rank 0 quiet.
"""

from __future__ import annotations

from rich.console import Console

console = Console(highlight=False)
console_err = Console(stderr=True, highlight=False)


def say(message: str) -> None:
    """A progress or status message for the user (stderr, so stdout stays machine-readable)."""
    console_err.print(message)

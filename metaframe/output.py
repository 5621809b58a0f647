"""The one place that prints: rich consoles for results (stdout) and messages (stderr).

Routing every line through here is what lets a distributed run keep all but rank 0 quiet.
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape

console = Console(highlight=False, soft_wrap=True)
console_err = Console(stderr=True, highlight=False, soft_wrap=True)
emit_enabled = True


def silence() -> None:
    """Print nothing more from this process (every process of a distributed run but the writer)."""
    global emit_enabled
    console.quiet = console_err.quiet = True
    emit_enabled = False


def say(message: str) -> None:
    """A progress or status message for the user (stderr, so stdout stays machine-readable)."""
    console_err.print(message)


def emit(text: str) -> None:
    """Machine-readable output (JSON) on stdout, untouched by rich's wrapping and colours."""
    if not emit_enabled:
        return
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def error_line(message: str) -> None:
    """A user error as one red line on stderr (never wrapped); the message is plain text, so brackets in
    it (a package extra such as ``metaframe[NAME]``, a file name) are printed as written."""
    console_err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True, markup=True)

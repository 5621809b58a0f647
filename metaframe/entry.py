"""The ``metaframe`` console script: Ctrl-C while the command line is still loading is one line too."""

from __future__ import annotations

import sys


def main() -> None:
    """Import the command line (torch, plugins: a second or two), then run it."""
    try:
        from metaframe.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted (SIGINT)\n")
        sys.exit(130)
    run()

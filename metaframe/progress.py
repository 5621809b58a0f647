"""Progress of long work: a live bar on a terminal, plain lines in a log file.

When stderr is not a terminal (CI, ``nohup``, ``> log``) a live bar shows nothing useful, so a plain
line is written instead every ``every`` steps or every ``seconds`` seconds, whichever comes first:
step, elapsed time, estimated time left, and the latest values.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from metaframe.output import console_err

LOG_SECONDS = 30.0


def clock(seconds: float) -> str:
    """``seconds`` as H:MM:SS (or M:SS under an hour)."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class LogLines:
    """Plain progress lines for a log: ``what N/TOTAL  elapsed M:SS  left ~M:SS  status``."""

    def __init__(
        self,
        what: str,
        total: int,
        start: int = 0,
        every: int | None = None,
        seconds: float = LOG_SECONDS,
        write: Callable[[str], None] | None = None,
    ) -> None:
        self.what, self.total, self.start = what, total, start
        self.every = every or max(1, total // 20)
        self.seconds = seconds
        self.write = write or (lambda line: console_err.print(line, markup=False, highlight=False))
        self.began = self.last = time.monotonic()

    def update(self, done: int, status: str = "") -> None:
        """Report that ``done`` of ``total`` steps are complete (a line only when one is due)."""
        now = time.monotonic()
        due = done % self.every == 0 or done == self.total or now - self.last >= self.seconds
        if not due:
            return
        self.last = now
        elapsed = now - self.began
        rate = (done - self.start) / elapsed if elapsed > 0 else 0.0
        left = f"~{clock((self.total - done) / rate)}" if rate > 0 else "?"
        line = f"{self.what} {done}/{self.total}  elapsed {clock(elapsed)}  left {left}"
        self.write(f"{line}  {status}".rstrip())


Listener = Callable[[str, int, int], None]
"""Told ``(what, done, total)`` as a stage starts and at each step: e.g. a web page's progress bar."""


class ProgressStage:
    """One stage of a command's work (``with ProgressStage("personalize", 20) as stage: ... stage.advance()``): a live
    bar on a terminal, :class:`LogLines` elsewhere, and nothing with ``show=False``; ``listener``, when given, is
    told the progress too, whatever ``show`` says."""

    def __init__(self, what: str, total: int, show: bool = True, listener: Listener | None = None) -> None:
        self.what, self.total, self.done, self.listener = what, total, 0, listener
        live = show and console_err.is_terminal
        columns = (TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
        self.bar = Progress(*columns, console=console_err, transient=True, disable=not live)
        self.task = self.bar.add_task(what, total=total)
        self.lines = LogLines(what, total) if show and not live else None

    def __enter__(self) -> ProgressStage:
        self.bar.start()
        if self.listener is not None:
            self.listener(self.what, 0, self.total)
        return self

    def advance(self, steps: int = 1) -> None:
        """Count ``steps`` more steps done."""
        self.done += steps
        self.bar.update(self.task, completed=self.done)
        if self.lines is not None:
            self.lines.update(self.done)
        if self.listener is not None:
            self.listener(self.what, self.done, self.total)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.bar.stop()

"""Crash points for fault-injection tests: a process can be made to kill itself at a named instant.

``METAFRAME_CRASH_AT=POINT:N`` kills the process with SIGKILL the N-th time it passes ``POINT`` (1 when
``:N`` is left out). The points are the instants a crash could tear a run folder: ``write:NAME`` (a
temporary file written, not yet renamed over ``NAME``), ``wrote:NAME`` (renamed), ``logged`` (a
metrics line appended) and ``meta-step`` (a meta-iteration stepped, in every process of a distributed
run). ``METAFRAME_CRASH_RANK=R`` confines the crash to process R of a distributed run (torchrun's
``RANK``). Unset, :func:`crash_point` costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

VARIABLE = "METAFRAME_CRASH_AT"
RANK_VARIABLE = "METAFRAME_CRASH_RANK"
_passes: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """Die here, like a power cut, if ``METAFRAME_CRASH_AT`` names this point and pass."""
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    point, _, count = wanted.rpartition(":") if wanted.rpartition(":")[2].isdigit() else (wanted, "", "1")
    own_rank = os.environ.get("RANK", "0")
    if point != name or os.environ.get(RANK_VARIABLE, own_rank) != own_rank:
        return
    _passes[name] += 1
    if _passes[name] == int(count):
        os.kill(os.getpid(), signal.SIGKILL)

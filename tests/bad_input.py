"""The bad-input harness: a command line run in a folder of the user's own files must print one line on
stderr (``error: ...``), exit 2, show no traceback, and create or change nothing.

Shared by the core's table (``tests/test_bad_input.py``, on the fixture plugins) and the tables of the
built-in plugins (``tests/toy/``, ``tests/algorithms/``, ``tests/pose2im/``, ``tests/video/``).
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

from metaframe.testing import run_cli


def user_files(folder: Path) -> Path:
    """``folder`` with the user's own files in it: ``mine/`` (their weights), a binary ``garbage.toml`` and
    a ``broken.toml`` that is not TOML."""
    (folder / "mine").mkdir()
    (folder / "mine" / "model.safetensors").write_bytes(b"the user's own weights")
    (folder / "garbage.toml").write_bytes(bytes(range(256)))
    (folder / "broken.toml").write_text("k = = 3\n")
    return folder


def tree(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` with a hash of its content (folders hash to "")."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
        for p in sorted(folder.rglob("*"))
    }


def assert_refused(folder: Path, args: list[str]) -> str:
    """Run ``metaframe ARGS`` in ``folder``: one ``error:`` line, exit 2, nothing written (``new`` above all,
    the output folder the tables name). Returns the line."""
    before = tree(folder)
    with contextlib.chdir(folder):
        result = run_cli(args)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    assert tree(folder) == before, "a bad input created or changed files"
    assert not (folder / "new").exists()
    return lines[0]

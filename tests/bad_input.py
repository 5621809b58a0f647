"""The bad-input harness: a command line run in a folder of the user's own files must print one line on
stderr (``error: ...``) that says what the table expects, exit 2, show no traceback, and create or change
nothing.

Shared by the core's table (``tests/test_bad_input.py``, on the fixture plugins) and the tables of the
built-in plugins (``tests/toy/``, ``tests/algorithms/``, ``tests/pose2im/``, ``tests/video/``): a table
maps a case's name to a :data:`Refusal`, and ``test_... = refusals(CASES)`` is the whole test.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from metaframe.testing import run_cli

Refusal = tuple[list[str], str]
"""A bad input: the command line (after ``metaframe``), and a part of the one error line it must print."""


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


def assert_refused(folder: Path, args: list[str], says: str) -> str:
    """Run ``metaframe ARGS`` in ``folder``: one ``error:`` line that contains ``says``, exit 2, no traceback,
    nothing written (``new`` above all, the output folder the tables name). Returns the line."""
    before = tree(folder)
    with contextlib.chdir(folder):
        result = run_cli(args)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert says in lines[0], f"expected {says!r} in: {lines[0]}"
    assert "Traceback" not in result.stderr
    assert tree(folder) == before, "a bad input created or changed files"
    assert not (folder / "new").exists()
    return lines[0]


def refusals(cases: Mapping[str, Refusal], prepare: Callable[[Path], object] = lambda folder: None) -> Callable:
    """A test, one case per entry of ``cases``, that runs each command line with the installed and fixture
    plugins (the ``plugins`` fixture) in a fresh folder of :func:`user_files` (and what ``prepare`` adds to
    it) and asserts it is refused as :func:`assert_refused` says."""

    @pytest.mark.parametrize("case", list(cases))
    def test(plugins, tmp_path: Path, case: str) -> None:
        folder = user_files(tmp_path)
        prepare(folder)
        args, says = cases[case]
        assert_refused(folder, args, says)

    return test

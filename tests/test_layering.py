"""The import contracts in pyproject.toml hold (CI runs ``lint-imports`` too; here for whoever has the dev extra)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter comes with the dev extra")
def test_the_import_contracts_are_kept():
    result = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout[-3000:]

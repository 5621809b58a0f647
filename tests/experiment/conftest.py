"""A finished ``metaframe reproduce metapix --scale tiny``, shared by the module that reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from metaframe.testing import run_cli


def reproduce(out: Path, *args: str):
    return run_cli(["reproduce", "metapix", "--scale", "tiny", "--out", str(out), "--quiet", *args])


@pytest.fixture(scope="package")
def tiny_report(tmp_path_factory) -> Path:
    """The output folder of a tiny MetaPix reproduction (about 20 seconds)."""
    out = tmp_path_factory.mktemp("reproduce") / "tiny"
    result = reproduce(out)
    assert result.exit_code == 0, result.stderr
    return out

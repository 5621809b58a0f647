"""The engine builds the model before the task renders its data, so a mismatch costs no rendering."""

import os
from pathlib import Path

from metaframe.testing import run_cli


def test_size_mismatch_is_refused_before_any_rendering(plugins, tmp_path, monkeypatch):
    monkeypatch.setenv("METAFRAME_CACHE", str(tmp_path / "cache"))
    args = ["run", "reptile", "--model", "pose2im", "--task", "video-shot", "--set", "model.scale=tiny",
            "--set", "task.size=64", "--out", str(tmp_path / "run"), "--quiet"]  # fmt: skip
    result = run_cli(args)
    assert result.exit_code == 2
    assert "32" in result.stderr and "64" in result.stderr
    cache = Path(os.environ["METAFRAME_CACHE"])
    assert not cache.exists() or not any(cache.rglob("dataset.json")), "nothing was rendered"

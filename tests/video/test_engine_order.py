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


def test_a_dataset_without_held_out_videos_trains_and_says_why_there_is_no_sample(plugins, tmp_path):
    from tests.video.conftest import make_dataset

    root = make_dataset(
        tmp_path / "data", [("a", "ann", 30), ("b", "bob", 30)], size=32, splits={"a": "train", "b": "train"}
    )
    args = ["run", "reptile", "--model", "pose2im", "--task", "video-shot", "--set", "model.scale=tiny",
            "--set", "model.init=none", "--set", f"task.data={root}", "--set", "task.size=32",
            "--set", "task.eval_identities=0",
            "--set", "task.query=2", "--meta-iterations", "1", "--k", "2", "--t", "1", "--quiet",
            "--out", str(tmp_path / "run")]  # fmt: skip
    result = run_cli(args)
    assert result.exit_code == 0, result.stderr
    assert "no sample picture" in result.stderr and "no held-out videos" in result.stderr
    assert result.stderr.count("pose2im: perceptual loss: off") == 1  # the model's notes, said at the start
    assert (tmp_path / "run" / "model.safetensors").is_file()

"""``eval --t 0`` scores the weights as given, not personalized (what meta-learning starts each task
from); meta-training refuses T = 0 in one line."""

from __future__ import annotations

import json

import pytest

from metaframe.config import Settings
from metaframe.errors import UsageError
from metaframe.testing import run_cli
from metaframe_video.task.video_shot import TEST_OPTIONS

TASK = [f"--set=task.{key}={value}" for key, value in TEST_OPTIONS.items()]


def rows(result, path):
    assert result.exit_code == 0, result.stderr
    return {row["init"]: row for row in json.loads(path.read_text())["rows"]}


def test_an_untrained_warp_and_refine_generator_at_t_0_scores_exactly_the_warp(tmp_path):
    model = ["--model", "pose2im", "--set=model.scale=tiny", "--set=model.generator=warp", "--set=model.init=none"]
    out = tmp_path / "eval.json"
    result = run_cli(["eval", "--init", "random", "--init", "warp", "--task", "video-shot", "--k", "2", "--t", "0",
                      *model, *TASK, "--device", "cpu", "--json", str(out)])  # fmt: skip
    scored = rows(result, out)
    assert scored["random"]["t"] == 0
    untrained, warp = scored["random"]["metrics"], scored["warp"]["metrics"]
    assert untrained.keys() == warp.keys()
    for metric in ("ssim", "psnr", "mse", "person_ssim", "person_psnr", "person_mse"):
        assert untrained[metric] == pytest.approx(warp[metric], rel=1e-5, abs=1e-6), metric
    assert "T=0: not personalized" in result.stdout
    personalized = run_cli(["eval", "--init", "random", "--task", "video-shot", "--k", "2", "--t", "2",
                            *model, *TASK, "--device", "cpu", "--json", str(out)])  # fmt: skip
    assert rows(personalized, out)["random"]["metrics"] != scored["random"]["metrics"]


def test_meta_training_refuses_t_0_in_one_line(tmp_path):
    out = tmp_path / "r"
    result = run_cli(["run", "reptile", "--model", "mlp", "--task", "sine", "--set", "t=0", "--out", str(out)])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "T = 0 is for eval" in errors[0], result.stderr
    assert not out.exists()


def test_a_negative_t_is_refused():
    with pytest.raises(UsageError, match="t must be 0 or more"):
        Settings(t=-1)

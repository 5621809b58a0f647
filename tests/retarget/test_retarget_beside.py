"""``retarget --beside warp``: the warp of the same target frames, which learns nothing, drawn beside the
result in the video and the contact sheet, exactly as the reference predicts it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import metaframe_video.retarget
from metaframe.api import UsageError, to_uint8, trained_setup
from metaframe.testing import run_cli
from metaframe_pose2im.warp import warp_reference
from metaframe_video.retarget.contract import Footage
from metaframe_video.retarget.render import GAP, TITLE_HEIGHT
from tests.retarget.conftest import read_video

FRAMES, SIDE = 6, 32


def test_the_warp_beside_is_what_the_reference_draws_from_the_same_support(tiny_run, tmp_path):
    options = {"target": "synthetic:eval-000", "source": "synthetic:train-001", "k": 2, "max_frames": FRAMES}
    made = metaframe_video.retarget.retarget(tiny_run, **options, out=tmp_path / "a.mp4", beside="warp")
    assert made.summary["beside"] == "warp" and read_video(made.video)[2:] == (2 * SIDE, SIDE)  # result | warp
    sheet = np.asarray(Image.open(made.contact_sheet))
    assert sheet.shape[1] == 4 * SIDE + 3 * GAP
    reader = trained_setup(tiny_run, {"k": 2}).sampler
    goal = Footage("synthetic:eval-000")
    support = reader.target_examples(goal, 2)
    poses = reader.source_motion(Footage("synthetic:train-001", max_frames=FRAMES), goal).poses(0, FRAMES)
    expected = to_uint8(warp_reference(support, poses)).numpy()
    for row in range(FRAMES):  # six frames: each one is a row of the sheet
        top = TITLE_HEIGHT + GAP + row * (SIDE + GAP)
        panel = sheet[top : top + SIDE, 3 * (SIDE + GAP) :]
        assert np.array_equal(panel, expected[row]), row
    result = sheet[TITLE_HEIGHT + GAP : TITLE_HEIGHT + GAP + SIDE, 2 * (SIDE + GAP) : 3 * SIDE + 2 * GAP]
    assert not np.array_equal(result, expected[0])  # the model's own panel is not the warp


def test_the_command_puts_it_after_source_pose_and_result(tiny_run, tmp_path):
    out = tmp_path / "b.mp4"
    args = ["--target", "synthetic:eval-000", "--source", "synthetic:train-001", "--max-frames", "4"]
    result = run_cli(["retarget", "--init", str(tiny_run), *args, "--side-by-side", "--beside", "warp",
                      "--quiet", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["beside"] == "warp" and read_video(out)[2:] == (4 * SIDE, SIDE)


def test_an_unknown_reference_is_refused_before_any_work(tiny_run, tmp_path):
    with pytest.raises(UsageError, match="unknown reference 'wrap'; did you mean warp"):
        metaframe_video.retarget.retarget(tiny_run, target="synthetic:eval-000", source="synthetic:train-001",
                                          out=tmp_path / "c.mp4", beside="wrap")  # fmt: skip
    assert list(tmp_path.iterdir()) == []

"""The per-part warp that learns nothing: it moves the person's own pixels, fuses the closest support frames,
degrades gracefully, and is the ``warp`` reference row of ``metaframe eval``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from metaframe.testing import from_table, run_cli
from metaframe_pose2im.warp import (
    PARTS,
    SupportParts,
    body_scale,
    heatmap_keypoints,
    part_regions,
    warp,
    warp_reference,
)
from metaframe_video.task import pose, video_shot
from metaframe_video.task.video_shot import TEST_OPTIONS, VideoShotOptions

build = from_table(video_shot.build, VideoShotOptions, "task")

TINY = {**TEST_OPTIONS, "size": 64}


@pytest.fixture(scope="module")
def task():
    """One held-out task of a small synthetic world (64 px, so parts are several pixels wide)."""
    sampler = build(TINY, k=3)
    return sampler.eval_tasks()[0]


def test_a_pose_moved_by_whole_pixels_moves_the_person_exactly(task):
    image, keypoints = task.support["image"][:1], task.support["keypoints"][:1]
    moved = keypoints.clone()
    moved[..., :2] += torch.tensor([3.0, 2.0])
    warped = SupportParts(image, keypoints).warp(moved)
    expected = image.roll(shifts=(2, 3), dims=(-2, -1))
    covered = warped.person[:, 0] > 0.99
    assert covered.sum() > 20  # the person is there, not only the plate
    difference = (warped.image - expected).abs().amax(1)[covered]
    assert difference.max() < 0.01  # about one grey level of 255: fitted maps are exact to float rounding


def test_each_part_comes_from_the_support_frame_whose_part_pose_is_closest(task):
    images, keypoints = task.support["image"], task.support["keypoints"]
    only_first = warp(images[:1], keypoints[:1], keypoints[:1])
    fused = warp(images, keypoints, keypoints[:1])  # the first frame's own pose: it is the closest
    person = SupportParts(images[:1], keypoints[:1]).warp(keypoints[:1]).person[:, 0] > 0.99
    assert (fused - only_first).abs().amax(1)[person].mean() < 0.05


def test_a_pose_with_no_visible_keypoint_gets_the_background_plate(task):
    parts = SupportParts(task.support["image"], task.support["keypoints"])
    nothing = torch.zeros(1, 17, 3)
    warped = parts.warp(nothing)
    assert torch.isfinite(warped.image).all() and warped.person.max() == 0
    assert torch.allclose(warped.image, parts.plate)


def test_a_missing_limb_is_left_out_and_the_rest_is_drawn(task):
    parts = SupportParts(task.support["image"], task.support["keypoints"])
    keypoints = task.query["keypoints"][:1].clone()
    whole = parts.warp(keypoints)
    keypoints[0, 9, 2] = 0  # left wrist unseen: the left forearm has no transform and no region
    without = parts.warp(keypoints)
    assert torch.isfinite(without.image).all() and without.image.shape == (1, 3, 64, 64)
    forearm = [part.name for part in PARTS].index("left_forearm")
    region = part_regions(task.query["keypoints"][:1], body_scale(task.query["keypoints"][:1], 64), 64)[0, forearm]
    elsewhere = region < 0.01
    assert without.person[0, 0][elsewhere].sum() > 20  # the rest of the person is still there
    assert without.person.sum() < whole.person.sum()  # and the forearm is not


def test_keypoints_read_off_heatmaps_to_a_fraction_of_a_pixel():
    keypoints = np.random.default_rng(0).uniform(8, 56, (3, 17, 3)).astype(np.float32)
    keypoints[..., 2] = 1
    keypoints[1, 4, 2] = 0
    found = heatmap_keypoints(pose.render(keypoints, 64))
    seen = torch.from_numpy(keypoints[..., 2] > 0)
    assert (found[..., :2] - torch.from_numpy(keypoints[..., :2])).abs()[seen].max() < 1e-3
    assert found[1, 4, 2] == 0 and found[..., 2][seen].min() == 1


def test_the_reference_refuses_batches_without_keypoints_in_one_line():
    with pytest.raises(Exception, match="COCO-17 keypoints"):
        warp_reference({"image": torch.zeros(2, 3, 8, 8)}, {"image": torch.zeros(1, 3, 8, 8)})
    result = run_cli(["eval", "--init", "warp", "--model", "mlp", "--task", "sine", "--t", "1"])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr


def test_eval_scores_the_warp_beside_copy_nearest(tmp_path):
    sets = [f"--set=task.{k}={v}" for k, v in TEST_OPTIONS.items()]
    inits = ["--init", "warp", "--init", "copy-nearest"]
    result = run_cli(["eval", *inits, "--model", "pose2im", "--task", "video-shot", "--k", "2", "--t", "1",
                      "--set=model.scale=tiny", "--set=model.init=none", *sets,
                      "--device", "cpu", "--json", str(tmp_path / "eval.json")])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = json.loads((tmp_path / "eval.json").read_text())["rows"]
    assert [row["init"] for row in rows] == ["warp", "copy-nearest"]
    assert rows[0]["metrics"]["person_ssim"] != rows[1]["metrics"]["person_ssim"]


def upright(torso: float = 30.0) -> torch.Tensor:
    """1×17×3 keypoints of a standing person whose torso is ``torso`` pixels long, proportioned as the
    body-scale cues expect."""
    kp = torch.zeros(1, 17, 3)
    kp[..., 2] = 1.0
    x, top = 64.0, 30.0
    half_shoulders, half_hips = 0.75 * torso / 2, 0.35 * torso / 2
    points = {
        5: (x - half_shoulders, top), 6: (x + half_shoulders, top),
        11: (x - half_hips, top + torso), 12: (x + half_hips, top + torso),
        7: (x - half_shoulders, top + 0.59 * torso), 8: (x + half_shoulders, top + 0.59 * torso),
        13: (x - half_hips, top + 1.88 * torso), 14: (x + half_hips, top + 1.88 * torso),
        15: (x - half_hips, top + 2.74 * torso), 16: (x + half_hips, top + 2.74 * torso),
    }  # fmt: skip
    for joint, (px, py) in points.items():
        kp[0, joint, :2] = torch.tensor([px, py])
    kp[0, :5, :2] = torch.tensor([x, top - 0.4 * torso])
    kp[0, 9:11] = kp[0, 7:9]
    return kp


def test_the_body_scale_is_the_torso_of_an_upright_person():
    assert body_scale(upright(30.0), 128).item() == pytest.approx(30.0, rel=1e-4)


def test_a_torso_seen_end_on_does_not_shrink_the_person():
    kp = upright(30.0)
    kp[0, :11, 1] += 30.0 - 3.0  # the upper body leans to the camera: shoulders 3 px above the hips
    assert body_scale(kp, 128).item() == pytest.approx(0.8 * 30.0, rel=0.05)


def test_one_misplaced_keypoint_does_not_make_the_person_larger():
    kp = upright(30.0)
    kp[0, 15, 1] += 200.0  # one ankle far off: one cue says the person is huge, the others do not
    assert body_scale(kp, 128).item() == pytest.approx(30.0, rel=1e-4)

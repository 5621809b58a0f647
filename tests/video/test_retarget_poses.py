"""The source's keypoints on their way to the model: pose normalization, temporal smoothing, missing poses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from metaframe.errors import UsageError
from metaframe_video.retarget.footage import Clip
from metaframe_video.retarget.motion import fill_missing
from metaframe_video.retarget.normalize import carry, stance
from metaframe_video.retarget.smooth import smooth
from tests.video.conftest_prepare import figure


def dancing(frames: int, seed: int = 0) -> np.ndarray:
    """N×17×3 keypoints of a figure that moves about, bends (shorter) and has a keypoint missing now and then."""
    rng = np.random.default_rng(seed)
    poses = []
    for t in range(frames):
        height = 80 * (1 - 0.2 * rng.random())  # crouching frames are shorter
        points = figure(60 + 10 * np.sin(t / 3), 110 + 5 * rng.random(), height) + rng.normal(0, 1, (17, 2))
        scores = np.where(rng.random(17) < 0.1, 0.0, 0.9)
        poses.append(np.concatenate([points * (scores[:, None] > 0), scores[:, None]], axis=1))
    return np.asarray(poses, np.float32)


def test_a_scaled_and_moved_skeleton_maps_back_onto_the_targets():
    target = dancing(40)
    source = target.copy()
    source[..., :2] = 2.5 * target[..., :2] + np.float32([-70, 30])  # a closer person, standing elsewhere
    source[target[..., 2] == 0, :2] = 0
    mapped = carry(source, stance(source, "source"), stance(target, "target"))
    np.testing.assert_allclose(mapped, target, atol=1e-3)


def test_a_tall_source_is_brought_to_the_targets_height_and_ground():
    target, source = dancing(30, seed=1), dancing(30, seed=2)
    source[..., :2] *= np.float32(1.8)  # a taller person, lower in the frame
    goal = stance(target, "target")
    moved = stance(carry(source, stance(source, "source"), goal), "moved")
    assert moved.height == pytest.approx(goal.height, rel=1e-4)
    np.testing.assert_allclose(moved.ankles, goal.ankles, atol=1e-3)


def test_normalization_needs_a_head_and_an_ankle_and_says_so():
    portrait = dancing(5)
    portrait[:, 15:, 2] = 0  # ankles never in view
    with pytest.raises(UsageError, match="the target never shows the head and an ankle.*--no-normalize"):
        stance(portrait, "the target")


def test_smoothing_reduces_jitter_and_keeps_steady_motion():
    rng = np.random.default_rng(0)
    frames = 60
    steady = np.zeros((frames, 17, 3), np.float32)
    steady[..., 0] = np.arange(frames)[:, None] * 2.0  # moving right, 2 px a frame
    steady[..., 1] = 50
    steady[..., 2] = 1
    jittery = steady.copy()
    jittery[..., :2] += rng.normal(0, 1.5, (frames, 17, 2))
    shots = np.zeros(frames, int)
    np.testing.assert_allclose(smooth(steady, shots)[2:-2], steady[2:-2], atol=1e-4)  # no lag, no shrink
    error_before = np.abs(jittery - steady)[..., :2].mean()
    error_after = np.abs(smooth(jittery, shots) - steady)[2:-2, :, :2].mean()
    assert error_after < 0.6 * error_before


def test_smoothing_never_reaches_across_a_cut_nor_invents_a_keypoint():
    keypoints = np.zeros((10, 17, 3), np.float32)
    keypoints[:5, :, :2], keypoints[5:, :, :2] = 10.0, 90.0  # a cut between frames 4 and 5
    keypoints[..., 2] = 1
    keypoints[3, 0] = 0  # the nose not found in frame 3
    shots = np.array([0] * 5 + [1] * 5)
    smoothed = smooth(keypoints, shots)
    assert np.all(smoothed[:5, 1:, :2] == 10.0) and np.all(smoothed[5:, :, :2] == 90.0)
    assert np.all(smoothed[3, 0] == 0)


def test_frames_without_a_pose_take_the_last_pose_before_them():
    keypoints = np.zeros((6, 17, 3), np.float32)
    for t in (1, 2, 4):
        keypoints[t, :, :2], keypoints[t, :, 2] = t, 1
    clip = Clip("c", [Path("x")] * 6, keypoints, np.zeros(6, int), None, 32)
    filled, missing = fill_missing(clip, "c")
    assert missing == 3
    assert [int(frame[0, 0]) for frame in filled] == [1, 1, 2, 2, 4, 4]  # frame 0 takes the first pose found


def test_a_source_without_any_pose_is_one_line():
    clip = Clip("c", [Path("x")] * 3, np.zeros((3, 17, 3), np.float32), np.zeros(3, int), None, 32)
    with pytest.raises(UsageError, match="no person found in the source c: none of its 3 frames has a pose"):
        fill_missing(clip, "c")

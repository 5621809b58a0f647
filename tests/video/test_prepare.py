"""``metaframe prepare`` on a real clip with MediaPipe: ``../shared/data/sports2d-demo.mp4``, two people.

A man exercises on top of a box (his feet at y ≈ 465 in the 1768×994 frame) while a woman walks past
below it (her head at y ≈ 540 and lower). Which of them a dataset follows is therefore read off the
keypoints. The segment read (frames 60 to 147, every third) keeps each run to a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest

from metaframe.errors import UsageError
from metaframe_video.dataset import read_index, read_shot
from metaframe_video.prepare.pipeline import PrepareOptions, prepare
from metaframe_video.prepare.sources import Selection
from tests.video.conftest_prepare import need_mediapipe, need_sports2d, write_video

SEGMENT = Selection(start=60, every=3, max_frames=30)
BOX_TOP = 505  # source pixels: the man stays above it, the woman below it
SURE = 0.5


def _prepare(tmp_path_factory, name: str, **options):
    need_mediapipe()
    clip = need_sports2d()
    out = tmp_path_factory.mktemp(name) / "ds"
    prepare([clip], out, PrepareOptions(size=128, selection=SEGMENT, **options))
    video = read_index(out)["videos"][0]
    return out, video, [read_shot(out, video, shot) for shot in video["shots"]]


def _in_source(video: dict, shot_entry: dict, keypoints: np.ndarray, size: int = 128) -> np.ndarray:
    """Keypoints of the dataset's square frames back in the source video's pixels."""
    crop = shot_entry["crop"]
    moved = keypoints.copy()
    moved[..., :2] = keypoints[..., :2] * crop["side"] / size + np.array([crop["x"], crop["y"]])
    return moved


@pytest.fixture(scope="module")
def largest(tmp_path_factory):
    """The segment prepared with the default --person largest."""
    return _prepare(tmp_path_factory, "largest")


def test_the_segment_gives_one_shot_with_a_pose_per_frame(largest):
    out, video, shots = largest
    assert video["frames_read"] == 30 and len(shots) == 1
    (shot,), (entry,) = shots, video["shots"]
    assert entry["frames"] >= 27 and video["frames_without_person"] == 30 - entry["frames"]
    assert entry["first_frame"] == 60 and entry["last_frame"] == 147 and entry["every"] == 3
    assert shot.frames.shape == (entry["frames"], 128, 128, 3) and shot.keypoints.shape == (entry["frames"], 17, 3)
    assert (shot.keypoints[..., 2] >= SURE).mean() > 0.7  # MediaPipe is sure of most keypoints
    assert (out / "contact_sheet.png").stat().st_size > 10_000


def test_largest_follows_the_man_on_the_box_throughout(largest):
    _, video, (shot,) = largest
    points = _in_source(video, video["shots"][0], shot.keypoints)
    sure = points[..., 2] >= SURE
    assert (points[..., 1][sure] < BOX_TOP).all()  # never a keypoint on the woman walking below
    hips = points[:, 11:13, :2].mean(axis=1)
    assert np.abs(np.diff(hips, axis=0)).max() < 80  # no jump from one person to another between frames


def test_person_1_follows_the_woman_who_walks_past(tmp_path_factory):
    _, video, (shot,) = _prepare(tmp_path_factory, "second", person=1)
    points = _in_source(video, video["shots"][0], shot.keypoints)
    sure = points[..., 2] >= SURE
    assert (points[..., 1][sure] > BOX_TOP).all()
    hips_x = points[:, 11:13, 0].mean(axis=1)
    assert hips_x[0] - hips_x[-1] > 400  # she walks right to left across the frame


def test_a_video_without_anyone_says_how_many_frames_had_none(tmp_path):
    need_mediapipe()
    rng = np.random.default_rng(0)
    empty = write_video(tmp_path / "empty.mp4", rng.integers(0, 255, (8, 96, 128, 3), dtype=np.uint8))
    with pytest.raises(UsageError, match=r"no person found in .*empty.mp4: none of its 8 frames read had one"):
        prepare([empty], tmp_path / "ds", PrepareOptions(size=64, min_shot=2))
    assert not (tmp_path / "ds").exists() and not list(tmp_path.glob(".ds.partial-*"))

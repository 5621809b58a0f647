"""The one contact-sheet drawer: side colours, hollow unsure keypoints, grids, and no OpenCV in either caller."""

import sys

import numpy as np
from PIL import Image

from metaframe_video import preview
from metaframe_video.contact_sheet import LEFT, MIDDLE, RIGHT, SURE, draw_skeleton, grid, side_colour
from metaframe_video.keypoints import COCO17
from metaframe_video.prepare.sheet import TILE, Tile, save_sheet
from tests.video.conftest import make_dataset

GREY = 60


def joint(name: str) -> int:
    return COCO17.index(name)


def standing(size: int) -> np.ndarray:
    """A COCO-17 figure filling a ``size``-pixel frame, every keypoint sure."""
    unit = np.array(
        [[0.5, 0.1], [0.47, 0.08], [0.53, 0.08], [0.44, 0.1], [0.56, 0.1], [0.35, 0.25], [0.65, 0.25], [0.25, 0.4],
         [0.75, 0.4], [0.2, 0.55], [0.8, 0.55], [0.4, 0.55], [0.6, 0.55], [0.4, 0.72], [0.6, 0.72], [0.4, 0.9],
         [0.6, 0.9]]
    )  # fmt: skip
    return np.concatenate([unit * size, np.ones((17, 1))], axis=1).astype(np.float32)


def at(image: np.ndarray, point: np.ndarray) -> tuple[int, ...]:
    return tuple(int(v) for v in image[int(point[1]), int(point[0])])


def test_each_side_has_its_colour_and_what_spans_both_is_white():
    assert side_colour(joint("left_elbow"), joint("left_wrist")) == LEFT
    assert side_colour(joint("right_knee")) == RIGHT
    assert side_colour(joint("left_shoulder"), joint("right_shoulder")) == MIDDLE
    assert side_colour(joint("nose")) == MIDDLE


def test_limbs_are_drawn_in_their_side_colour_and_the_frame_is_not_changed():
    frame = np.full((384, 384, 3), GREY, np.uint8)  # limbs 3 px wide: their middle pixels are fully covered
    points = standing(384)
    drawn = draw_skeleton(frame, points)
    assert (frame == GREY).all(), "the caller's frame is left as it was"
    for a, b, colour in (
        ("left_elbow", "left_wrist", LEFT),
        ("right_hip", "right_knee", RIGHT),
        ("left_hip", "right_hip", MIDDLE),
    ):
        middle = (points[joint(a), :2] + points[joint(b), :2]) / 2
        assert at(drawn, middle) == colour, (a, b)


def test_unsure_keypoints_are_hollow_and_missing_ones_are_not_drawn():
    frame = np.full((256, 256, 3), GREY, np.uint8)
    points = standing(256)
    points[:, 2] = 0.0  # all missing: nothing drawn
    assert np.array_equal(draw_skeleton(frame, points), frame)
    wrist = points[joint("right_wrist"), :2]
    points[joint("right_wrist"), 2] = 1.0  # alone, so no limb crosses it
    assert at(draw_skeleton(frame, points), wrist) == RIGHT
    points[joint("right_wrist"), 2] = SURE  # unsure: a ring around an untouched centre
    drawn = draw_skeleton(frame, points)
    assert at(drawn, wrist) == (GREY,) * 3
    assert at(drawn, wrist + [2.5, 0]) != (GREY,) * 3  # the ring: 2 to 3 px from the centre at 256 px


def test_grid_lays_tiles_in_rows_and_fills_the_last_with_black():
    tiles = [np.full((4, 6, 3), k + 1, np.uint8) for k in range(5)]
    sheet = grid(tiles, 2)
    assert sheet.shape == (12, 12, 3)
    assert sheet[0, 0, 0] == 1 and sheet[0, 6, 0] == 2 and sheet[4, 0, 0] == 3 and sheet[8, 0, 0] == 5
    assert (sheet[8:, 6:] == 0).all()


def test_neither_caller_needs_opencv(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # any `import cv2` now raises ImportError
    frame = np.full((96, 96, 3), GREY, np.uint8)
    save_sheet([Tile(frame, standing(96), "v/shot/0")] * 3, tmp_path / "prepare.png")
    assert Image.open(tmp_path / "prepare.png").size == (4 * TILE, TILE)
    root = make_dataset(tmp_path / "data", [("a", "ann", 30), ("b", "bob", 30)], size=48, splits={"b": "eval"})
    preview.main([str(tmp_path / "preview.png"), "--data", str(root), "--videos", "3", "--frames", "2"])
    assert Image.open(tmp_path / "preview.png").size == (48 * 4, 48 * 2)

"""The keypoint layout: OpenPose's COCO-18 and BODY_25 orders map onto COCO-17; anything else is refused."""

import numpy as np
import pytest

from metaframe.errors import UsageError
from metaframe_video.keypoints import COCO17, to_coco17


def test_openpose_layouts_map_to_coco17():
    named18 = [
        "nose",
        "neck",
        "right_shoulder",
        "right_elbow",
        "right_wrist",
        "left_shoulder",
        "left_elbow",
        "left_wrist",
        "right_hip",
        "right_knee",
        "right_ankle",
        "left_hip",
        "left_knee",
        "left_ankle",
        "right_eye",
        "left_eye",
        "right_ear",
        "left_ear",
    ]
    named25 = [
        *named18[:8],
        "mid_hip",
        *named18[8:],
        "l_big_toe",
        "l_small_toe",
        "l_heel",
        "r_big_toe",
        "r_small_toe",
        "r_heel",
    ]
    for names in (named18, named25):
        points = np.stack([np.arange(len(names)), np.zeros(len(names))], axis=-1)  # x = index in that layout
        coco = to_coco17(points[None])[0]
        assert [names[int(x)] for x in coco[:, 0]] == list(COCO17)
        assert coco.shape == (17, 3) and (coco[:, 2] == 1).all()


def test_coco17_passes_through_and_missing_openpose_points_stay_missing():
    points = np.random.default_rng(0).uniform(0, 9, (2, 18, 3)).astype(np.float32)
    points[0, 0] = 0  # OpenPose writes an undetected point as (0, 0, 0)
    coco = to_coco17(points)
    assert coco[0, 0, 2] == 0
    assert np.array_equal(to_coco17(coco), coco)


@pytest.mark.parametrize("shape", [(17,), (2, 16, 3), (19, 3), (17, 4)])
def test_unknown_layouts_are_usage_errors(shape):
    with pytest.raises(UsageError, match="keypoints"):
        to_coco17(np.zeros(shape))

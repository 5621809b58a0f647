"""The keypoint layout every part of the video plugin speaks: COCO-17, its limbs, and OpenPose's layouts.

A pose is a float array ``17×3`` of (x, y, score) in COCO-17 order, x and y in pixels of its frame,
score 0 for a missing point. The synthetic dancers, ``prepare`` (MediaPipe or OpenPose), the dataset
files, the pose images and the contact sheets all use this one order.
"""

from __future__ import annotations

import numpy as np

from metaframe.api import UsageError

COCO17 = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
COCO17_LIMBS = (
    (5, 7), (7, 9), (6, 8), (8, 10), (5, 6), (5, 11), (6, 12), (11, 12),
    (11, 13), (13, 15), (12, 14), (14, 16), (0, 1), (0, 2), (1, 3), (2, 4),
)  # fmt: skip
"""Pairs of COCO-17 indices: left arm, right arm, shoulders, torso sides, hips, left leg, right leg, face."""

# Where each COCO-17 keypoint sits in other common layouts.
OPENPOSE18_TO_COCO17 = (0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10)
"""OpenPose's COCO-18 order (nose, neck, right arm, left arm, right leg, left leg, eyes, ears); neck dropped."""
BODY25_TO_COCO17 = (0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11)
"""OpenPose's BODY_25 order (COCO-18 with a mid-hip and six foot points); neck, mid-hip and feet dropped."""
BODY25B_TO_COCO17 = tuple(range(17))
"""OpenPose's BODY_25B (experimental) order: COCO-17 first, then upper neck, head top and six foot points.
It has 25 points like BODY_25: ``prepare`` tells the two apart from the skeletons (see
:mod:`metaframe_video.prepare.pose_openpose`); :func:`to_coco17` reads 25 points as BODY_25."""


def to_coco17(keypoints: np.ndarray) -> np.ndarray:
    """Keypoints ``(..., P, 2 or 3)`` in COCO-17 (P = 17), OpenPose COCO-18 (18) or BODY_25 (25) order → COCO-17.

    Points given as (x, y) get score 1; OpenPose writes missing points as (0, 0, 0), which stay missing.
    """
    keypoints = np.asarray(keypoints, dtype=np.float32)
    if keypoints.ndim < 2 or keypoints.shape[-1] not in (2, 3):
        raise UsageError(f"keypoints must have shape (..., points, 2 or 3), got {keypoints.shape}")
    if keypoints.shape[-1] == 2:
        keypoints = np.concatenate([keypoints, np.ones_like(keypoints[..., :1])], axis=-1)
    layouts = {17: tuple(range(17)), 18: OPENPOSE18_TO_COCO17, 25: BODY25_TO_COCO17}
    points = keypoints.shape[-2]
    if points not in layouts:
        raise UsageError(f"{points} keypoints per pose; expected 17 (COCO), 18 (OpenPose COCO-18) or 25 (BODY_25)")
    return keypoints[..., layouts[points], :]

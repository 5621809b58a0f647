"""Pose normalization between two people, after Everybody Dance Now: the source's skeleton is carried into
the target's frame, so a tall or distant source does not give a stretched or floating target.

Each clip's *stance* is measured from its own frames: where the person stands (the median over frames of
the point between their ankles) and how tall they are (the 90th percentile over frames of the distance
from the centre of their head — nose, eyes, ears — to that point: a high percentile, because crouching or
bending frames are shorter, never taller, than standing ones). Every source keypoint ``p`` then becomes
``a_t + (h_t / h_s) (p - a_s)``: scaled by the ratio of the heights about the source's ankles, which land
on the target's. Medians and percentiles commute with this map, so a source that is a scaled and moved
copy of the target is mapped exactly back onto it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from metaframe.api import UsageError

HEAD = (0, 1, 2, 3, 4)  # COCO-17 nose, eyes, ears
ANKLES = (15, 16)
HEIGHT_PERCENTILE = 90


@dataclass(frozen=True)
class Stance:
    """Where a person stands (``ankles``: x, y in pixels) and how tall they are (``height``, pixels)."""

    ankles: np.ndarray
    height: float

    def to_json(self) -> dict[str, Any]:
        """The stance as plain numbers, for the summary."""
        return {"ankles": [round(float(v), 2) for v in self.ankles], "height": round(self.height, 2)}


def part_centre(keypoints: np.ndarray, part: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the mean of the ``part`` keypoints found (N×2) and whether any was found (N)."""
    points, found = keypoints[:, part, :2], keypoints[:, part, 2] > 0
    count = found.sum(axis=1)
    mean = (points * found[..., None]).sum(axis=1) / np.maximum(count, 1)[:, None]
    return mean, count > 0


def stance(keypoints: np.ndarray, who: str) -> Stance:
    """The stance of the person whose keypoints (N×17×3) are given; ``who`` names them in the error."""
    head, has_head = part_centre(keypoints, HEAD)
    ankles, has_ankles = part_centre(keypoints, ANKLES)
    measured = has_head & has_ankles
    if not measured.any():
        raise UsageError(
            f"{who} never shows the head and an ankle in one frame, which pose normalization measures; "
            f"give a full-body view or pass --no-normalize"
        )
    heights = np.linalg.norm(ankles[measured] - head[measured], axis=1)
    return Stance(np.median(ankles[has_ankles], axis=0), float(np.percentile(heights, HEIGHT_PERCENTILE)))


def carry(keypoints: np.ndarray, source: Stance, target: Stance) -> np.ndarray:
    """``keypoints`` (N×17×3) of the source person moved into the target's frame; scores are kept."""
    moved = keypoints.copy()
    scale = target.height / max(source.height, 1e-6)
    moved[..., :2] = target.ankles + scale * (keypoints[..., :2] - source.ankles)
    moved[keypoints[..., 2] <= 0, :2] = 0.0  # a missing keypoint stays (0, 0, 0), as everywhere else
    return moved.astype(np.float32)

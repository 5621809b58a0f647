"""Temporal smoothing of estimated keypoints: per-frame pose estimates jitter by a pixel or two, which a
rendered video shows as a shiver.

The filter is a centred Gaussian moving average over time, σ = 1 frame, ±2 frames: each keypoint's
position becomes the weighted mean of its positions in the frames around it (weights 0.14, 0.61, 1,
0.61, 0.14). It has no lag (the whole clip is known), keeps a steady motion where it is (the weights are
symmetric), only averages frames where that keypoint was found, never reaches across a shot change, and
never invents a keypoint that a frame lacks. ``metaframe retarget --no-smooth`` turns it off.
"""

from __future__ import annotations

import numpy as np

SIGMA = 1.0  # frames
RADIUS = 2  # frames each side


def smooth(keypoints: np.ndarray, shots: np.ndarray, sigma: float = SIGMA, radius: int = RADIUS) -> np.ndarray:
    """``keypoints`` (N×J×3, in frame order) with positions filtered over time within each shot."""
    xy, found = keypoints[..., :2].astype(np.float64), keypoints[..., 2] > 0
    total, weight = np.zeros_like(xy), np.zeros(found.shape)
    count = len(keypoints)
    for offset in range(-radius, radius + 1):
        lo, hi = max(0, -offset), min(count, count - offset)  # frames t whose neighbour t + offset exists
        if lo >= hi:
            continue
        here, there = slice(lo, hi), slice(lo + offset, hi + offset)
        usable = found[there] & (shots[there] == shots[here])[:, None]
        w = np.exp(-0.5 * (offset / sigma) ** 2) * usable
        total[here] += w[..., None] * xy[there]
        weight[here] += w
    smoothed = keypoints.copy()
    smoothed[..., :2] = np.where(found[..., None], total / np.maximum(weight, 1e-12)[..., None], xy)
    return smoothed

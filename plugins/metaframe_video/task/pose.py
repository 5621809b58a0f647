"""Pose images: 2D keypoints rendered as a multi-channel heatmap, the input of a pose-to-image model.

One renderer serves synthetic and real data. Channel ``i < 17`` holds a Gaussian (peak 1) centred on
COCO-17 keypoint ``i``; with ``limbs``, channel ``17 + j`` holds a Gaussian ridge along limb ``j`` of
:data:`~metaframe_video.keypoints.COCO17_LIMBS`. A missing keypoint (score 0) leaves its channel, and the
channels of its limbs, empty.

Coordinates are continuous pixels: the frame's top-left corner is (0, 0) and pixel (row i, column j)
covers [j, j+1) × [i, i+1), so its centre is (j + 0.5, i + 0.5).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from metaframe_video.keypoints import COCO17, COCO17_LIMBS


def channels(limbs: bool) -> int:
    """Number of channels of a pose image: one per keypoint, plus one per limb when ``limbs``."""
    return len(COCO17) + (len(COCO17_LIMBS) if limbs else 0)


def default_sigma(size: int) -> float:
    """The Gaussian's standard deviation, in pixels, when none is given: 2 px at 128, 4 px at 256."""
    return max(1.0, size / 64)


def render(keypoints: np.ndarray | Tensor, size: int, sigma: float | None = None, limbs: bool = False) -> Tensor:
    """Pose images of ``keypoints`` (N×17×3, pixels of a ``size``-pixel frame) as float32 N×C×size×size in [0, 1].

    Every channel is written straight into the one output array: the output is large (N × 17 × S² floats)
    and allocating it is most of the cost, so no full-size temporary is ever made. The work is done in
    numpy, single-threaded on purpose: these are many small operations, and torch's thread pool would
    contend with the model's training for the same cores (measured 5-10× slower on a busy 2-core CPU).
    """
    keypoints = np.asarray(keypoints, dtype=np.float32)
    sigma = default_sigma(size) if sigma is None else float(sigma)
    centres = np.arange(size, dtype=np.float32) + 0.5
    heat = np.empty((len(keypoints), channels(limbs), size, size), dtype=np.float32)
    gx, gy = keypoint_profiles(keypoints, centres, sigma)
    for n in range(len(keypoints)):  # a 2D Gaussian is the outer product of two 1D ones
        np.multiply(gy[n, :, :, None], gx[n, :, None, :], out=heat[n, : len(COCO17)])
    if limbs:
        gx, gy = limb_profiles(keypoints, centres, sigma)
        for n in range(len(keypoints)):
            limb_heat = heat[n, len(COCO17) :]
            np.matmul(gy[n].transpose(0, 2, 1), gx[n], out=limb_heat)
            np.minimum(limb_heat, 1.0, out=limb_heat)
    return torch.from_numpy(heat)


def gaussian(offset: np.ndarray, sigma: float | np.ndarray) -> np.ndarray:
    """exp(-offset² / 2σ²), in float32."""
    return np.exp(-0.5 * np.square(offset / sigma)).astype(np.float32, copy=False)


def keypoint_profiles(keypoints: np.ndarray, centres: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The 1D Gaussians (N×17×S) along x and y of every keypoint; missing keypoints give zeros."""
    present = (keypoints[..., 2] > 0).astype(np.float32)
    gx = gaussian(centres - keypoints[..., 0:1], sigma)
    gy = gaussian(centres - keypoints[..., 1:2], sigma) * present[..., None]
    return gx, gy


def limb_profiles(keypoints: np.ndarray, centres: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """1D Gaussians (N×L×M×S) of M points along every limb, weighted so the ridge they sum to peaks at 1.

    A limb's channel is the sum over its points of separable Gaussians, i.e. one small matrix product
    ``gy.T @ gx`` rather than a distance to the segment for every pixel (~10× faster at 256 px).
    Points are at most 0.75σ apart, so the ridge's ripple is under 0.1%; it fades to half height at
    the two keypoints.
    """
    ends = np.asarray(COCO17_LIMBS)
    start, stop = keypoints[:, ends[:, 0], :2], keypoints[:, ends[:, 1], :2]  # N×L×2
    present = (keypoints[:, ends[:, 0], 2] > 0) & (keypoints[:, ends[:, 1], 2] > 0)
    length = np.where(present, np.linalg.norm(stop - start, axis=-1), 0.0)
    points = int(length.max(initial=0.0) / (0.75 * sigma)) + 2
    steps = np.linspace(0, 1, points, dtype=np.float32)  # the same M for every limb: shorter limbs get denser points
    along = start[..., None, :] + steps[:, None] * (stop - start)[..., None, :]  # N×L×M×2
    spread = sigma / np.maximum(length, 1e-6)[..., None]  # σ in units of the limb's length
    middle = gaussian(steps - 0.5, spread).sum(-1)  # the ridge's height half-way along the limb
    weight = present / np.maximum(middle, 1e-6)
    gx = gaussian(centres - along[..., 0:1], sigma)
    gy = gaussian(centres - along[..., 1:2], sigma) * weight[..., None, None].astype(np.float32)
    return gx, gy

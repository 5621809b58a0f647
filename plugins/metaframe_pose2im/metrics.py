"""MetaPix's image metrics in torch, with scikit-image's conventions, on 0–255 images.

Inputs are batches B×C×H×W in [-1, 1] (the generator's range). Each frame is first mapped to 0–255 and
rounded to integers, as if saved to an 8-bit image file (rounding, not truncation: a real frame that
came from a uint8 file then compares equal to that file). Every function returns one value per frame;
MetaPix averages them over frames, then over videos.

* :func:`ssim` equals ``skimage.metrics.structural_similarity(a, b, channel_axis=-1, data_range=255)``:
  a 7×7 uniform window, sample covariance (N/(N−1)), K1 = 0.01, K2 = 0.03, the border where the window
  does not fit left out, averaged over channels.
* :func:`psnr` equals ``peak_signal_noise_ratio(a, b, data_range=255)`` up to :data:`PSNR_MAX`, and
  :func:`mse` equals ``mean_squared_error(a, b)``.

Computations run in float64, as scikit-image's do.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

DATA_RANGE = 255.0
PSNR_MAX = 60.0
"""A frame's PSNR is capped here (dB), as VMAF caps 8-bit PSNR: a prediction that copies its frame exactly
(MSE 0, PSNR +∞) would otherwise make the mean over frames infinite. 60 dB is an MSE of 0.065, far below
one grey level."""
WINDOW = 7
K1, K2 = 0.01, 0.03


def to_255(images: Tensor) -> Tensor:
    """Images in [-1, 1] as float64 integers in 0–255 (clamped, then rounded to the nearest level)."""
    return ((images.detach().double().clamp(-1, 1) + 1) * (DATA_RANGE / 2)).round()


def mse(fake: Tensor, real: Tensor) -> Tensor:
    """Mean squared error per frame on the 0–255 scale."""
    return ((to_255(fake) - to_255(real)) ** 2).flatten(1).mean(1)


def psnr(fake: Tensor, real: Tensor) -> Tensor:
    """Peak signal-to-noise ratio per frame in dB (data range 255), capped at :data:`PSNR_MAX` (identical
    frames score 60 dB, not +∞)."""
    return (10 * torch.log10(DATA_RANGE**2 / mse(fake, real))).clamp(max=PSNR_MAX)


def ssim(fake: Tensor, real: Tensor) -> Tensor:
    """Structural similarity per frame (7×7 uniform window, averaged over channels and positions)."""
    x, y = to_255(fake), to_255(real)
    if min(x.shape[-2:]) < WINDOW:
        raise ValueError(f"SSIM needs frames of at least {WINDOW}×{WINDOW} pixels, got {tuple(x.shape[-2:])}")
    # A "valid" 7×7 mean is scikit-image's uniform filter followed by cropping the 3-pixel border.
    mean = lambda t: F.avg_pool2d(t, WINDOW, stride=1)  # noqa: E731
    n = WINDOW * WINDOW
    covariance = n / (n - 1)
    mx, my = mean(x), mean(y)
    vx = covariance * (mean(x * x) - mx * mx)
    vy = covariance * (mean(y * y) - my * my)
    vxy = covariance * (mean(x * y) - mx * my)
    c1, c2 = (K1 * DATA_RANGE) ** 2, (K2 * DATA_RANGE) ** 2
    s = ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1)


def image_metrics(fake: Tensor, real: Tensor) -> dict[str, Tensor]:
    """SSIM, PSNR and MSE per frame, keyed ``ssim``, ``psnr``, ``mse``."""
    return {"ssim": ssim(fake, real), "psnr": psnr(fake, real), "mse": mse(fake, real)}


def frame_intensities(frames: Tensor) -> Tensor:
    """Each frame's mean intensity on the 0–255 scale."""
    return to_255(frames).flatten(1).mean(1)


def temporal_coherence(frames: Tensor) -> float:
    """MetaPix's temporal coherence: the standard deviation over frames of each frame's mean intensity.

    Intensities are on the 0–255 scale; the population standard deviation (numpy's default) is used.
    """
    return frame_intensities(frames).std(correction=0).item()


PERSON_SIDE = 64  # person crops are resampled to this side, so every person weighs the same in the mean


def person_crops(images: Tensor, boxes: Tensor, side: int = PERSON_SIDE) -> Tensor:
    """B×C×side×side: each image's box (x0, y0, x1, y1 in pixels) resampled bilinearly to a square."""
    size = images.shape[-1]
    theta = torch.zeros(len(images), 2, 3, dtype=images.dtype, device=images.device)
    theta[:, 0, 0] = (boxes[:, 2] - boxes[:, 0]) / size
    theta[:, 1, 1] = (boxes[:, 3] - boxes[:, 1]) / size
    theta[:, 0, 2] = (boxes[:, 0] + boxes[:, 2]) / size - 1
    theta[:, 1, 2] = (boxes[:, 1] + boxes[:, 3]) / size - 1
    grid = F.affine_grid(theta, [len(images), images.shape[1], side, side], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


def frame_scores(fake: Tensor, real: Tensor, boxes: Tensor) -> dict[str, Tensor]:
    """Per-frame SSIM, PSNR and MSE over the full frame and, as ``person_*``, inside each frame's person box."""
    boxes = boxes.to(torch.float32)
    inside = image_metrics(person_crops(fake.float(), boxes), person_crops(real.float(), boxes))
    return {**image_metrics(fake, real), **{f"person_{name}": values for name, values in inside.items()}}

"""SSIM, PSNR and MSE in torch against scikit-image on 0–255 images."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

from metaframe_pose2im import metrics


def as_uint8(images: torch.Tensor) -> np.ndarray:
    """What a user would save: B×H×W×3 uint8, rounded from [-1, 1]."""
    return metrics.to_255(images).to(torch.uint8).permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize(("height", "width"), [(32, 32), (17, 40)])
def test_metrics_equal_scikit_image(height, width):
    generator = torch.Generator().manual_seed(1)
    real = torch.rand(3, 3, height, width, generator=generator) * 2 - 1
    fake = (real + 0.3 * torch.randn(3, 3, height, width, generator=generator)).clamp(-1, 1)
    ours = metrics.image_metrics(fake, real)
    for i, (a, b) in enumerate(zip(as_uint8(fake), as_uint8(real), strict=True)):
        expected_ssim = structural_similarity(a, b, channel_axis=-1, data_range=255)
        assert ours["ssim"][i].item() == pytest.approx(expected_ssim, abs=1e-4)
        assert ours["psnr"][i].item() == pytest.approx(peak_signal_noise_ratio(b, a, data_range=255), abs=1e-4)
        assert ours["mse"][i].item() == pytest.approx(mean_squared_error(b, a), rel=1e-6)


def test_identical_frames_are_perfect_and_uint8_frames_round_trip():
    levels = torch.randint(0, 256, (2, 3, 16, 16)).double()
    frames = levels / 127.5 - 1  # how a task turns uint8 files into [-1, 1]
    assert torch.equal(metrics.to_255(frames), levels)  # rounding, not truncation, restores every level
    assert torch.allclose(metrics.ssim(frames, frames), torch.ones(2, dtype=torch.float64))
    assert (metrics.psnr(frames, frames) == metrics.PSNR_MAX).all() and (metrics.mse(frames, frames) == 0).all()


def test_psnr_is_capped_only_where_frames_are_nearly_identical():
    levels = torch.full((3, 3, 16, 16), 100.0)
    off = levels.clone()
    off[1, 0, 0, 0] += 1  # one value one grey level off: 10·log10(255² · 768) ≈ 77 dB, capped
    off[2] += 64  # every value 64 levels off: 12.0 dB, uncapped
    scores = metrics.psnr(off / 127.5 - 1, levels / 127.5 - 1)
    assert scores[0] == scores[1] == metrics.PSNR_MAX
    assert scores[2].item() == pytest.approx(10 * np.log10(255**2 / 64**2), abs=0.01)


def test_ssim_refuses_frames_smaller_than_its_window():
    with pytest.raises(ValueError, match="at least 7"):
        metrics.ssim(torch.zeros(1, 3, 6, 6), torch.zeros(1, 3, 6, 6))


def test_temporal_coherence_is_the_std_of_frame_means():
    frames = torch.stack([torch.full((3, 4, 4), value) for value in (-1.0, 0.0, 1.0)])
    means = np.array([0.0, 128.0, 255.0])  # 0 → 127.5 rounds to 128 (half to even gives 128 too)
    assert metrics.temporal_coherence(frames) == pytest.approx(means.std())

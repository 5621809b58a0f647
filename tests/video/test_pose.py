"""Pose images: Gaussians on the keypoints, limb ridges, empty channels for missing keypoints."""

import pytest
import torch

from metaframe_video.keypoints import COCO17, COCO17_LIMBS
from metaframe_video.task import pose


def random_keypoints(n: int, size: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    xy = 2 + torch.rand(n, 17, 2, generator=generator) * (size - 4)
    return torch.cat([xy, torch.ones(n, 17, 1)], dim=-1)


def peaks(heat: torch.Tensor) -> torch.Tensor:
    """(x, y) of each channel's maximum, at pixel centres."""
    size = heat.shape[-1]
    flat = heat.flatten(-2).argmax(-1)
    return torch.stack([flat % size, flat // size], dim=-1).float() + 0.5


@pytest.mark.parametrize("size, sigma", [(32, None), (64, 1.5), (128, None), (256, 3.0)])
def test_heatmap_maxima_sit_on_the_keypoints(size, sigma):
    keypoints = random_keypoints(4, size)
    heat = pose.render(keypoints, size, sigma)
    assert heat.shape == (4, 17, size, size) and heat.dtype == torch.float32
    error = (peaks(heat) - keypoints[..., :2]).norm(dim=-1)
    assert error.max() <= 1.0, f"a maximum is {error.max():.2f} px from its keypoint"
    assert heat.max() <= 1.0 and heat.min() >= 0.0
    assert torch.allclose(heat.amax((-2, -1)), torch.ones(4, 17), atol=0.25)


def test_a_keypoint_at_a_pixel_centre_peaks_at_one():
    keypoints = torch.zeros(1, 17, 3)
    keypoints[0, :, :2] = torch.tensor([10.5, 20.5])
    keypoints[0, :, 2] = 1
    heat = pose.render(keypoints, 32)
    assert heat[0, :, 20, 10].eq(1).all() and heat[0].amax() == 1


def test_missing_keypoints_give_empty_channels_and_limbs():
    keypoints = random_keypoints(2, 64)
    missing = COCO17.index("left_elbow")
    keypoints[0, missing, 2] = 0
    heat = pose.render(keypoints, 64, limbs=True)
    assert heat.shape[1] == pose.channels(True) == 17 + len(COCO17_LIMBS)
    assert heat[0, missing].eq(0).all()
    assert heat[1, missing].max() > 0.5
    for j, (a, b) in enumerate(COCO17_LIMBS):
        touches = missing in (a, b)
        assert heat[0, 17 + j].eq(0).all() == touches, COCO17_LIMBS[j]


def test_limb_ridge_matches_the_distance_to_the_segment():
    size, sigma = 64, 2.0
    keypoints = random_keypoints(3, size, seed=1)
    heat = pose.render(keypoints, size, sigma, limbs=True)[:, 17:]
    centres = torch.arange(size) + 0.5
    y, x = torch.meshgrid(centres, centres, indexing="ij")
    for n in range(3):
        for j, (a, b) in enumerate(COCO17_LIMBS):
            start, stop = keypoints[n, a, :2], keypoints[n, b, :2]
            direction = stop - start
            t = ((x - start[0]) * direction[0] + (y - start[1]) * direction[1]) / direction.square().sum()
            length = direction.norm()
            inner = (t * length > 3 * sigma) & ((1 - t) * length > 3 * sigma)  # it fades to half at the keypoints
            closest_x, closest_y = start[0] + t.clamp(0, 1) * direction[0], start[1] + t.clamp(0, 1) * direction[1]
            exact = torch.exp(-((x - closest_x) ** 2 + (y - closest_y) ** 2) / (2 * sigma**2))
            assert ((heat[n, j] - exact) * inner).abs().max() < 0.02, (n, COCO17_LIMBS[j])
    assert heat.max() <= 1.0 and heat.min() >= 0.0


def test_default_sigma_scales_with_the_size():
    assert pose.default_sigma(128) == 2.0 and pose.default_sigma(256) == 4.0 and pose.default_sigma(32) == 1.0


def test_no_frames_render_to_an_empty_batch():
    assert pose.render(torch.zeros(0, 17, 3), 32, limbs=True).shape == (0, 33, 32, 32)

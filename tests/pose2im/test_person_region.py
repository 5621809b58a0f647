"""Person-region scores: SSIM / PSNR / MSE inside the query keypoints' box, so painting the background
right cannot hide a wrong person."""

from __future__ import annotations

import torch

from metaframe_pose2im.metrics import frame_scores, person_crops


def test_a_crop_of_the_whole_frame_is_the_frame_resampled():
    images = torch.rand(2, 3, 64, 64) * 2 - 1
    whole = torch.tensor([[0.0, 0.0, 64.0, 64.0]] * 2)
    assert torch.allclose(person_crops(images, whole, side=64), images, atol=1e-5)


def test_only_the_box_counts_in_the_person_scores():
    real = torch.rand(1, 3, 64, 64) * 2 - 1
    wrong_background = real.clone()
    wrong_background[..., :, :16] = -1  # left quarter painted black, the person stands on the right
    wrong_person = real.clone()
    wrong_person[..., 20:60, 30:60] = -1
    box = torch.tensor([[30.0, 20.0, 60.0, 60.0]])
    background = frame_scores(wrong_background, real, box)
    person = frame_scores(wrong_person, real, box)
    assert background["person_ssim"].item() > 0.999 and background["person_mse"].item() < 1e-9
    assert background["mse"].item() > 0
    assert person["person_mse"].item() > person["mse"].item() > 0  # the error fills the box

"""The GAN, feature-matching and L1 objectives against pix2pixHD's formulas."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from metaframe_pose2im import losses


def predictions(seed: int, num_d: int = 2, n_layers: int = 3) -> losses.Predictions:
    generator = torch.Generator().manual_seed(seed)
    return [[torch.randn(4, 2, 5, 5, generator=generator) for _ in range(n_layers + 2)] for _ in range(num_d)]


def test_lsgan_is_pix2pixhd_mse_to_one_or_zero_summed_over_scales():
    pred = predictions(0)
    real = sum(F.mse_loss(scale[-1], torch.ones_like(scale[-1])) for scale in pred)
    fake = sum(F.mse_loss(scale[-1], torch.zeros_like(scale[-1])) for scale in pred)
    torch.testing.assert_close(losses.gan_loss(pred, True, "lsgan"), real)
    torch.testing.assert_close(losses.gan_loss(pred, False, "lsgan"), fake)


def test_hinge_and_vanilla():
    pred = predictions(1)
    logits = [scale[-1] for scale in pred]
    torch.testing.assert_close(losses.gan_loss(pred, True, "hinge"), sum(F.relu(1 - x).mean() for x in logits))
    torch.testing.assert_close(losses.gan_loss(pred, False, "hinge"), sum(F.relu(1 + x).mean() for x in logits))
    torch.testing.assert_close(
        losses.gan_loss(pred, True, "hinge", for_discriminator=False), -sum(x.mean() for x in logits)
    )
    expected = sum(F.binary_cross_entropy(torch.sigmoid(x), torch.ones_like(x)) for x in logits)
    torch.testing.assert_close(losses.gan_loss(pred, True, "vanilla"), expected)
    with pytest.raises(ValueError, match="unknown GAN loss"):
        losses.gan_loss(pred, True, "wgan")


@pytest.mark.parametrize(("num_d", "n_layers"), [(2, 3), (3, 2)])
def test_feature_matching_uses_pix2pixhd_weights(num_d, n_layers):
    fake, real = predictions(2, num_d, n_layers), predictions(3, num_d, n_layers)
    expected = 0
    feat_weights, d_weights = 4.0 / (n_layers + 1), 1.0 / num_d  # pix2pixHD_model.py
    for i in range(num_d):
        for j in range(len(fake[i]) - 1):
            expected += d_weights * feat_weights * F.l1_loss(fake[i][j], real[i][j])
    torch.testing.assert_close(losses.feature_matching_loss(fake, real), expected)


def test_per_frame_weights_equal_repeating_frames():
    values = torch.randn(3, 2, 4, 4)
    cycle = torch.arange(8) % 3
    weights = torch.bincount(cycle, minlength=3).float() / 8
    torch.testing.assert_close(losses.batch_mean(values, weights), values[cycle].mean())
    torch.testing.assert_close(losses.l1_loss(values, -values, weights), (2 * values[cycle]).abs().mean())

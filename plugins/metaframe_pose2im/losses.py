"""pix2pixHD's objectives: GAN (LSGAN, hinge or vanilla), discriminator feature matching, L1.

Every loss is a mean over the batch, optionally weighted per frame: when K support frames are cycled to
fill a batch, frame ``i`` appearing ``n_i`` times out of ``B`` is computed once with weight ``n_i / B``.
With a per-frame normalization (instance norm) that is exactly the mean over the repeated batch, at
K/B of the cost.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

Predictions = list[list[Tensor]]
"""A multi-scale discriminator's output: per scale, every layer's features; the last is the logits."""


def batch_mean(values: Tensor, weights: Tensor | None = None) -> Tensor:
    """Mean of ``values`` over all but the first dimension, then over frames (weighted if given)."""
    per_frame = values.flatten(1).mean(1)
    return per_frame.mean() if weights is None else (per_frame * weights).sum()


def gan_loss(
    predictions: Predictions, real: bool, mode: str, weights: Tensor | None = None, for_discriminator: bool = True
) -> Tensor:
    """Sum over scales of the GAN loss of each scale's logits, labelled ``real`` or fake.

    ``lsgan`` is pix2pixHD's default (MSE to 1 or 0); ``vanilla`` is binary cross-entropy on logits;
    ``hinge`` gives the discriminator max(0, 1 ∓ logits) and the generator −logits.
    """
    total = predictions[0][-1].new_zeros(())
    for scale in predictions:
        logits = scale[-1]
        if mode == "lsgan":
            total = total + batch_mean((logits - float(real)) ** 2, weights)
        elif mode == "vanilla":
            target = torch.full_like(logits, float(real))
            total = total + batch_mean(F.binary_cross_entropy_with_logits(logits, target, reduction="none"), weights)
        elif mode == "hinge" and for_discriminator:
            total = total + batch_mean(F.relu(1 - logits if real else 1 + logits), weights)
        elif mode == "hinge":
            total = total - batch_mean(logits, weights)
        else:
            raise ValueError(f"unknown GAN loss {mode!r}")
    return total


def feature_matching_loss(fake: Predictions, real: Predictions, weights: Tensor | None = None) -> Tensor:
    """pix2pixHD's discriminator feature matching: L1 between every intermediate feature map.

    Each scale counts 1/num_D and each layer 4/(n_layers_D + 1), as in pix2pixHD (the logits are not
    compared); the real features are targets (no gradient).
    """
    scale_weight = 1.0 / len(fake)
    layer_weight = 4.0 / (len(fake[0]) - 2 + 1)  # len = n_layers_D + 2 groups
    total = fake[0][0].new_zeros(())
    for fake_scale, real_scale in zip(fake, real, strict=True):
        for fake_feature, real_feature in zip(fake_scale[:-1], real_scale[:-1], strict=True):
            total = total + batch_mean((fake_feature - real_feature.detach()).abs(), weights)
    return total * scale_weight * layer_weight


def l1_loss(fake: Tensor, real: Tensor, weights: Tensor | None = None) -> Tensor:
    """Mean absolute difference between two image batches."""
    return batch_mean((fake - real).abs(), weights)

"""The warp-and-refine generator: it starts from the per-part warp of the support frames and learns what the
warp gets wrong.

The ``small`` scale's generator (``model.generator=warp``); ``paper`` keeps pix2pixHD's pose-only global
generator. Its input is the pose heatmaps followed by :meth:`metaframe_pose2im.warp.Warped.channels` (the
fused warp, the background plate, how much of each pixel the warped person covers and how much of the plate
any support frame showed). A U-Net reads them and writes a residual ``Δ`` over the warp, a painted frame
``paint`` and a blend mask ``m``::

    out = (1 − m) · (warp + Δ) + m · paint

The layers that make ``Δ`` and ``m`` start at zero, so an untrained generator *is* the warp: learning starts
at the strongest predictor that learns nothing and spends itself on what the warp gets wrong (silhouettes,
holes in the plate, lighting, turns out of the image plane). ``m`` is clamped to [0, 1], whose gradient
passes at 0, so the mask can open from its closed start.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from metaframe_pose2im.networks import init_weights, to_channels_last
from metaframe_pose2im.unet import WIDEST, Residual, conv, encode_decode
from metaframe_pose2im.warp import WARP_CHANNELS

GENTLE = 0.1  # Δ and m are a tenth of their layer's output: Adam moves each weight by about lr a step
# whatever its gradient, and a full-strength zero-initialized head would leave the warp within steps


class WarpRefineGenerator(nn.Module):
    """U-Net over pose + warp channels; ``warp + Δ`` blended with a painted frame, equal to the warp at start.

    :param in_channels: pose channels + :data:`~metaframe_pose2im.warp.WARP_CHANNELS`, the warp's first.
    :param n_blocks: residual blocks at the bottleneck.
    """

    def __init__(self, in_channels: int, ngf: int, n_downsample: int, n_blocks: int, norm: str) -> None:
        super().__init__()
        widths = [min(ngf * 2**i, WIDEST) for i in range(n_downsample + 1)]
        self.pose_channels = in_channels - WARP_CHANNELS
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1), nn.LeakyReLU(0.2))
        self.down = nn.ModuleList(conv(widths[i], widths[i + 1], norm, stride=2) for i in range(n_downsample))
        self.middle = nn.Sequential(*(Residual(widths[-1], norm) for _ in range(n_blocks)))
        self.up = nn.ModuleList(conv(widths[i + 1] + widths[i], widths[i], norm) for i in reversed(range(n_downsample)))
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.paint = nn.Conv2d(widths[0] + in_channels, 3, 3, padding=1)
        self.correct = nn.Conv2d(widths[0] + in_channels, 4, 3, padding=1)  # Δ (3) + blend mask (1)
        self.apply(init_weights)
        for start_at_zero in self.correct.parameters():
            nn.init.zeros_(start_at_zero)

    def forward(self, x: Tensor) -> Tensor:
        x = to_channels_last(x)
        h = encode_decode(x, self.stem, self.down, self.middle, self.up, self.upsample)
        h = torch.cat([h, x], dim=1)
        correction = GENTLE * self.correct(h)
        delta, mask = correction[:, :3], correction[:, 3:].clamp(0, 1)
        warped = x[:, self.pose_channels : self.pose_channels + 3]
        return (1 - mask) * (warped + delta) + mask * torch.tanh(self.paint(h))

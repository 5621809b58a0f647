"""A reference-conditioned U-Net generator: pose + background plate + nearest support frame → frame.

The ``small`` scale's generator (``model.generator=unet``); ``paper`` keeps pix2pixHD's pose-only global
generator. Its input is the pose heatmaps followed by the six channels of
:meth:`metaframe_pose2im.appearance.Support.views` (plate, nearest frame). It paints the person and
composites: ``out = m · paint + (1 − m) · plate`` with a predicted soft mask ``m``, so the background
comes straight from the support frames and the weights spend themselves on the person, where
personalization matters. Skip connections at every scale carry the pose's exact position to the output.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from metaframe_pose2im.networks import init_weights, norm_layer, to_channels_last

VIEW_CHANNELS = 6  # background plate (3) + nearest support frame (3)
WIDEST = 128  # channels stop doubling here: the coarse levels are cheap, the full-resolution ones are not


def conv(in_channels: int, out_channels: int, norm: str, stride: int = 1) -> nn.Sequential:
    """3×3 convolution, normalization, LeakyReLU(0.2)."""
    layer = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1)
    return nn.Sequential(layer, norm_layer(norm, out_channels), nn.LeakyReLU(0.2))


class Residual(nn.Module):
    """x + conv(conv(x)) at the bottleneck."""

    def __init__(self, channels: int, norm: str) -> None:
        super().__init__()
        self.body = nn.Sequential(conv(channels, channels, norm), conv(channels, channels, norm))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


def encode_decode(
    x: Tensor, stem: nn.Module, down: nn.ModuleList, middle: nn.Module, up: nn.ModuleList, upsample: nn.Module
) -> Tensor:
    """A U-Net's full-resolution features: down the encoder keeping each level, through the bottleneck,
    up the decoder joining each level again."""
    skips = [stem(x)]
    for layer in down:
        skips.append(layer(skips[-1]))
    h = middle(skips.pop())
    for layer in up:
        h = layer(torch.cat([upsample(h), skips.pop()], dim=1))
    return h


class UNetGenerator(nn.Module):
    """Encoder–decoder with skips; widths ``ngf · 2^i`` (at most :data:`WIDEST`) over ``n_downsample`` levels.

    :param in_channels: pose channels + :data:`VIEW_CHANNELS`; the plate must be channels
        ``in_channels - 6 … in_channels - 4``.
    :param n_blocks: residual blocks at the bottleneck.
    """

    def __init__(self, in_channels: int, ngf: int, n_downsample: int, n_blocks: int, norm: str) -> None:
        super().__init__()
        widths = [min(ngf * 2**i, WIDEST) for i in range(n_downsample + 1)]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1), nn.LeakyReLU(0.2))
        self.down = nn.ModuleList(conv(widths[i], widths[i + 1], norm, stride=2) for i in range(n_downsample))
        self.middle = nn.Sequential(*(Residual(widths[-1], norm) for _ in range(n_blocks)))
        self.up = nn.ModuleList(conv(widths[i + 1] + widths[i], widths[i], norm) for i in reversed(range(n_downsample)))
        self.head = nn.Conv2d(widths[0] + in_channels, 4, 3, padding=1)  # paint (3) + mask logit (1)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.apply(init_weights)

    def forward(self, x: Tensor) -> Tensor:
        x = to_channels_last(x)
        h = encode_decode(x, self.stem, self.down, self.middle, self.up, self.upsample)
        out = self.head(torch.cat([h, x], dim=1))
        paint, mask = torch.tanh(out[:, :3]), torch.sigmoid(out[:, 3:])
        plate = x[:, -VIEW_CHANNELS : -VIEW_CHANNELS + 3]
        return mask * paint + (1 - mask) * plate

"""Sample pictures: one row per frame, showing the pose, the generated frame and the real frame."""

from __future__ import annotations

import colorsys

import torch
from torch import Tensor

GAP = 2  # pixels of dark grey between panels, so frames of similar colour stay apart
GAP_COLOUR = 40


def palette(channels: int) -> Tensor:
    """``channels`` distinct saturated colours (evenly spaced hues), as a C×3 float tensor in [0, 1]."""
    return torch.tensor([colorsys.hsv_to_rgb(i / channels, 0.85, 1.0) for i in range(channels)])


def colourise_pose(pose: Tensor) -> Tensor:
    """A B×C×H×W heatmap batch as B×3×H×W images in [0, 1].

    Each pixel takes the colour of its strongest keypoint channel, scaled by that channel's value (the
    maximum over channels), so every joint is visible in its own colour.
    """
    strength, channel = pose.clamp(0, 1).max(dim=1)
    colours = palette(pose.shape[1]).to(pose.device)[channel]  # B×H×W×3
    return (colours * strength.unsqueeze(-1)).permute(0, 3, 1, 2)


def to_uint8(images: Tensor) -> Tensor:
    """Images in [0, 1] as uint8 (rounded)."""
    return (images.clamp(0, 1) * 255).round().to(torch.uint8)


def sample_grid(pose: Tensor, fake: Tensor, real: Tensor) -> Tensor:
    """A uint8 H×W×3 picture: a row per frame of pose | generated | real, separated by thin gaps.

    :param pose: B×C×S×S heatmaps in [0, 1].
    :param fake: B×3×S×S generated frames in [-1, 1].
    :param real: B×3×S×S real frames in [-1, 1].
    """
    panels = [colourise_pose(pose), (fake.detach() + 1) / 2, (real + 1) / 2]
    rows = []
    for i in range(len(pose)):
        row = [to_uint8(panel[i].cpu()).permute(1, 2, 0) for panel in panels]
        rows.append(join(row, dim=1))
    return join(rows, dim=0)


def join(images: list[Tensor], dim: int) -> Tensor:
    """Concatenate H×W×3 uint8 images along ``dim`` (0: stacked, 1: side by side) with gaps between."""
    shape = list(images[0].shape)
    shape[dim] = GAP
    gap = torch.full(shape, GAP_COLOUR, dtype=torch.uint8)
    pieces = [piece for image in images for piece in (gap, image)][1:]
    return torch.cat(pieces, dim=dim)

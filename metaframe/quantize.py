"""Predictions as bytes: the one conversion plugins use to write what a model predicts in [-1, 1] as 8-bit
files (pictures, movies, safetensors of uint8). It is the engine's because plugins may not import each other."""

from __future__ import annotations

import torch
from torch import Tensor


def to_uint8(values: Tensor) -> Tensor:
    """B×C×… values in [-1, 1] as B×…×C uint8 on the CPU: -1 → 0, 1 → 255, rounded to the nearest, values
    outside the range clamped; the channels (dimension 1) move last, where 8-bit file formats keep them.
    Values in [0, 1] must be mapped to [-1, 1] first (``2 * x - 1``)."""
    scaled = ((values.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return scaled.movedim(1, -1).contiguous().cpu()

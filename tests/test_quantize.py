"""``metaframe.api.to_uint8``, the one conversion of predictions in [-1, 1] to bytes (the pose2im samples, the video
plugin's frame sheets and retarget's video all use it)."""

from __future__ import annotations

import torch

from metaframe.api import to_uint8


def test_the_range_maps_onto_bytes_rounded_and_clamped_with_channels_last():
    values = torch.tensor([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]).reshape(1, 1, 7).expand(2, 3, 7)
    converted = to_uint8(values)
    assert converted.dtype == torch.uint8 and converted.shape == (2, 7, 3) and converted.is_contiguous()
    # (x + 1) * 127.5 rounded to the nearest (ties to even): -0.5 → 63.75 → 64, 0 → 127.5 → 128, 0.5 → 191.25 → 191
    assert converted[0, :, 0].tolist() == [0, 0, 64, 128, 191, 255, 255]
    assert converted[1].equal(converted[0])


def test_a_tensor_with_a_graph_converts_without_one():
    weight = torch.ones(1, requires_grad=True)
    assert to_uint8((weight * torch.zeros(1, 3, 2, 2)).reshape(1, 3, 2, 2)).shape == (1, 2, 2, 3)

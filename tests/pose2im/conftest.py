"""Fixtures for the pose2im tests: tiny models and synthetic pose/frame batches."""

from __future__ import annotations

import pytest
import torch

from metaframe.testing import from_table
from metaframe_pose2im import model as pose2im_model
from metaframe_pose2im.model import Pose2ImModel
from metaframe_pose2im.options import Pose2ImOptions

build = from_table(pose2im_model.build, Pose2ImOptions, "model")

CHANNELS = 5  # pose heatmap channels; few keep the tests fast
SIZE = 32  # the tiny scale's frame size


def make_batch(k: int, size: int = SIZE, channels: int = CHANNELS, seed: int = 0) -> dict[str, torch.Tensor]:
    """K frames of one synthetic "person": Gaussian joint heatmaps in [0, 1], and frames in [-1, 1] showing
    a plain background with a body of per-joint colours around the joints."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.rand(k, channels, 2, generator=generator) * size * 0.6 + size * 0.2
    yx = torch.stack(torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij"), -1).float()
    distance2 = ((yx[None, None] - centres[:, :, None, None, :]) ** 2).sum(-1)
    pose = torch.exp(-distance2 / (2 * 2.0**2))
    body = torch.exp(-distance2 / (2 * 4.0**2))  # wider than the heatmaps: limbs around the joints
    colours = torch.rand(channels, 3, generator=generator) * 2 - 1
    background = torch.rand(3, generator=generator) * 2 - 1
    cover = body.sum(1, keepdim=True).clamp(max=1)
    paint = torch.einsum("bchw,cr->brhw", body, colours) / body.sum(1, keepdim=True).clamp(min=1e-6)
    image = background[None, :, None, None] * (1 - cover) + paint * cover
    return {"pose": pose, "image": image}


def tiny(**options) -> Pose2ImModel:
    """A tiny-scale model for 5 pose channels at 32 px, seeded."""
    torch.manual_seed(0)
    return build({"scale": "tiny", **options}, {"in_channels": CHANNELS, "size": options.get("size", SIZE)})


@pytest.fixture
def batch() -> dict[str, torch.Tensor]:
    return make_batch(3)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks gain nothing from intra-op threads, and on a busy machine OpenMP's spin-waiting
    makes two threads ten times slower than one; restore the setting afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

"""The code paths that differ on CUDA, on every device this machine has (CUDA cases skip without one):
one meta-iteration of each outer algorithm on Pose2Im, MAML with checkpoint_inner, the Pose2Im forward and
backward at each scale, bfloat16 autocast, and eval's scores equal to the CPU's."""

from __future__ import annotations

import pytest
import torch

from metaframe.api import Task
from metaframe.plugins import load_plugins
from metaframe.scoring import mean_scores, personalize_and_score
from metaframe.testing import from_table, options_for_tests, small_settings
from metaframe_pose2im import model as pose2im_model
from metaframe_pose2im.options import Pose2ImOptions, scale_size
from tests.devices import DEVICES
from tests.pose2im.conftest import make_batch

build = from_table(pose2im_model.build, Pose2ImOptions, "model")

PLUGINS = load_plugins()
INFO = {"in_channels": 17, "keypoints": "coco17"}


def person(seed: int, size: int = 32, k: int = 2, queries: int = 3) -> Task:
    """One synthetic person's support and query frames, made without rendering (a GPU machine may lack
    pybullet, which the video-shot test world needs): drawn poses, frames of a body around the joints."""
    frames = make_batch(k + queries, size=size, channels=17, seed=seed)
    support = {key: value[:k] for key, value in frames.items()}
    query = {key: value[k:] for key, value in frames.items()}
    return Task(f"person-{seed}", support, query)


def tasks(count: int = 2, size: int = 32) -> list[Task]:
    return [person(seed, size) for seed in range(count)]


def tiny(device: str, **options):
    torch.manual_seed(0)
    return build({"scale": "tiny", **options}, {**INFO, "size": 32}).to(device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "name, options", [(n, {}) for n in PLUGINS.algorithms.names()] + [("maml", {"checkpoint_inner": True})]
)
def test_one_meta_iteration_of_each_algorithm(device, name, options):
    model = tiny(device)
    entry = PLUGINS.algorithms.get(name)
    algorithm = entry.build({**options_for_tests(entry), **options}, model, small_settings(k=2, device=device))
    logs = algorithm.step([task.to(device) for task in tasks()], 0)
    assert all(torch.isfinite(torch.tensor(value)) for value in logs.values())
    assert all(p.device.type == device for net in model.networks.values() for p in net.parameters())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("scale", ["tiny", "small", "paper"])
def test_pose2im_forward_and_backward_at_each_scale(device, scale):
    if scale == "paper" and device == "cpu":
        pytest.skip("512 px pix2pixHD: for the GPU (tests/pose2im/test_networks.py checks it on the CPU, marked slow)")
    size = scale_size(scale)
    model = build({"scale": scale}, {**INFO, "size": size}).to(device)
    task = tasks(1, size)[0].to(device)
    model.set_support(task.support)
    logs = model.inner_step(task.support, model.inner_optimizers())
    assert all(torch.isfinite(torch.tensor(value)) for value in logs.values())


@pytest.mark.parametrize("device", DEVICES)
def test_bf16_autocast_inner_step_keeps_float32_weights(device):
    model = tiny(device, bf16=True)
    task = tasks(1)[0].to(device)
    logs = model.inner_step(task.support, model.inner_optimizers())
    assert all(torch.isfinite(torch.tensor(value)) for value in logs.values())
    assert all(p.dtype == torch.float32 for net in model.networks.values() for p in net.parameters())


@pytest.mark.parametrize("device", DEVICES)
def test_eval_scores_equal_the_cpus(device):
    def scores(on: str) -> dict[str, float]:
        return mean_scores(personalize_and_score(tiny(on), tasks(1), 2, seed=0))

    here, cpu = scores(device), scores("cpu")
    for name in ("ssim", "psnr", "mse", "person_ssim"):
        assert here[name] == pytest.approx(cpu[name], rel=2e-2, abs=2e-2), name

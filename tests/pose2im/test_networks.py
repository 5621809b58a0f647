"""The generator and discriminator: pix2pixHD's names, shapes and parameter counts (computed in
tests/pose2im/layouts.py from the architecture description), and the scales' forward and backward passes."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional

from metaframe_pose2im.model import build_networks
from metaframe_pose2im.networks import GlobalGenerator, MultiscaleDiscriminator
from metaframe_pose2im.options import SCALES, Pose2ImOptions, scale_size
from metaframe_pose2im.unet import VIEW_CHANNELS
from metaframe_pose2im.warp import WARP_CHANNELS
from tests.pose2im import layouts
from tests.pose2im.conftest import CHANNELS


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_paper_networks_have_pix2pixhd_parameter_counts():
    arch = SCALES["paper"]
    with torch.device("meta"):
        generator = GlobalGenerator(18, 3, arch.ngf, arch.n_downsample, arch.n_blocks)
        discriminator = MultiscaleDiscriminator(18 + 3, arch.ndf, arch.n_layers_d, arch.num_d)
    expected = layouts.generator_count(18, arch.ngf, arch.n_downsample, arch.n_blocks)
    assert abs(count(generator) - expected) <= 0.02 * expected
    assert count(generator) == expected
    expected = layouts.discriminator_count(18 + 3, arch.ndf, arch.n_layers_d, arch.num_d)
    assert abs(count(discriminator) - expected) <= 0.02 * expected
    assert count(discriminator) == expected


def test_documented_parameter_counts():
    """docs/reference/pose2im.md's table (17 pose channels) agrees with the formulas."""
    documented = {"tiny": (56_435, 26_738), "small": (1_281_422, 358_882), "paper": (182_487_171, 5_564_290)}
    for scale, (generator, discriminator) in documented.items():
        arch = SCALES[scale]
        if arch.generator == "pix2pixhd":
            assert layouts.generator_count(17, arch.ngf, arch.n_downsample, arch.n_blocks) == generator
        with torch.device("meta"):
            networks = build_networks(arch, 17)
        assert (count(networks[0]), count(networks[1])) == (generator, discriminator)
        assert layouts.discriminator_count(17 + 3, arch.ndf, arch.n_layers_d, arch.num_d) == discriminator


def test_the_layouts_parameters_add_up_to_the_counts():
    """The two derivations (key list, count formula) agree, so each checks the other."""
    generator = layouts.generator_keys(CHANNELS, 8, 3, 2)
    assert sum(torch.Size(shape).numel() for _, shape in generator) == layouts.generator_count(CHANNELS, 8, 3, 2)
    discriminator = layouts.discriminator_keys(CHANNELS + 3, 8, 3, 2)
    expected = layouts.discriminator_count(CHANNELS + 3, 8, 3, 2)
    assert sum(torch.Size(shape).numel() for _, shape in discriminator) == expected


def test_generator_keys_follow_the_documented_indices():
    keys = [key for key, _ in layouts.generator_keys(CHANNELS, 8, 2, 2)]
    assert keys[:6] == [
        "model.1.weight", "model.1.bias", "model.4.weight", "model.4.bias", "model.7.weight", "model.7.bias",
    ]  # fmt: skip
    assert keys[6:14] == [f"model.{n}.conv_block.{c}.{t}" for n in (10, 11) for c in (1, 5) for t in ("weight", "bias")]
    assert keys[14:] == [f"model.{n}.{t}" for n in (12, 15, 19) for t in ("weight", "bias")]


@pytest.mark.parametrize(("scale", "norm"), [("tiny", "instance"), ("tiny", "batch"), ("paper", "instance")])
def test_generator_names_and_shapes_match_pix2pixhd(scale, norm):
    arch = SCALES[scale]
    with torch.device("meta"):
        ours = GlobalGenerator(CHANNELS, 3, arch.ngf, arch.n_downsample, arch.n_blocks, norm)
    expected = layouts.generator_keys(CHANNELS, arch.ngf, arch.n_downsample, arch.n_blocks, norm)
    assert layouts.shapes(ours.state_dict()) == expected


@pytest.mark.parametrize("norm", ["instance", "batch"])
def test_discriminator_names_and_shapes_match_pix2pixhd(norm):
    with torch.device("meta"):
        ours = MultiscaleDiscriminator(CHANNELS + 3, ndf=8, n_layers=3, num_d=2, norm=norm)
    assert layouts.shapes(ours.state_dict()) == layouts.discriminator_keys(CHANNELS + 3, 8, 3, 2, norm)


def test_wide_discriminators_stop_doubling_at_512():
    with torch.device("meta"):
        ours = MultiscaleDiscriminator(CHANNELS + 3, ndf=128, n_layers=4, num_d=1)
    assert layouts.discriminator_widths(128, 4) == [128, 256, 512, 512, 512, 1]
    assert layouts.shapes(ours.state_dict()) == layouts.discriminator_keys(CHANNELS + 3, 128, 4, 1)


def test_the_full_resolution_input_goes_to_the_last_scale():
    """Scale num_d-1 sees the input, each one before it a 3×3 stride-2 average pooling (padding not counted)
    of the input of the next; every group's output is returned."""
    torch.manual_seed(0)
    discriminator = MultiscaleDiscriminator(CHANNELS + 3, ndf=8, n_layers=2, num_d=2)
    x = torch.rand(1, CHANNELS + 3, 32, 32)
    pooled = functional.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)
    with torch.no_grad():
        outputs = discriminator(x)
        for result, (scale, h) in zip(outputs, [(1, x), (0, pooled)], strict=True):
            assert len(result) == 2 + 2  # n_layers + 2 groups, the last the logits
            for j, output in enumerate(result):
                h = getattr(discriminator, f"scale{scale}_layer{j}")(h)
                torch.testing.assert_close(output, h)
    assert outputs[0][-1].shape[1] == 1


def scale_networks(scale: str) -> tuple[torch.nn.Module, MultiscaleDiscriminator]:
    return build_networks(Pose2ImOptions(scale=scale).architecture(), CHANNELS)


def generator_input(scale: str, pose: torch.Tensor) -> torch.Tensor:
    """The pose, followed by the support frames' views (or warp channels) when the scale's generator reads them."""
    extra = {"unet": VIEW_CHANNELS, "warp": WARP_CHANNELS}.get(SCALES[scale].generator, 0)
    return torch.cat([pose, torch.rand(len(pose), extra, *pose.shape[2:]) * 2 - 1], dim=1)


@pytest.mark.parametrize("scale", ["tiny", "small", "paper"])
def test_shapes_forward_and_backward_at_every_scale(scale):
    """On the meta device: every scale's shapes at its own frame size, with no compute."""
    size = scale_size(scale)
    with torch.device("meta"):
        generator, discriminator = scale_networks(scale)
        fake = generator(generator_input(scale, torch.empty(2, CHANNELS, size, size)))
        outputs = discriminator(torch.cat([torch.empty(2, CHANNELS, size, size), fake], 1))
        sum(scale[-1].sum() for scale in outputs).backward()
    assert fake.shape == (2, 3, size, size)
    assert len(outputs) == SCALES[scale].num_d
    assert all(p.grad is not None for p in generator.parameters())


@pytest.mark.parametrize("scale", ["tiny", "small"])
def test_real_forward_backward_and_output_range(scale):
    torch.manual_seed(0)
    size = scale_size(scale)
    generator, discriminator = scale_networks(scale)
    pose = torch.rand(2, CHANNELS, size, size)
    image = generator(generator_input(scale, pose))
    assert image.shape == (2, 3, size, size) and image.abs().max() <= 1
    logits = discriminator(torch.cat([pose, image], 1))
    sum(scale[-1].mean() for scale in logits).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in generator.parameters())
    assert all(p.grad is not None for p in discriminator.parameters())


@pytest.mark.slow
def test_paper_scale_forward_backward_at_512():
    generator, discriminator = scale_networks("paper")
    pose = torch.rand(1, CHANNELS, 512, 512)
    image = generator(pose)
    assert image.shape == (1, 3, 512, 512) and image.abs().max() <= 1
    sum(scale[-1].mean() for scale in discriminator(torch.cat([pose, image], 1))).backward()
    assert all(p.grad is not None for p in generator.parameters())

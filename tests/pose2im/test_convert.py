"""``metaframe convert``: pix2pixHD checkpoints round trip. The checkpoints are built here from pix2pixHD's
key names and shapes as tests/pose2im/layouts.py derives them, filled with random tensors."""

from __future__ import annotations

import os

import pytest
import torch
from safetensors.torch import load_file

from metaframe.errors import UsageError
from metaframe.testing import run_cli
from metaframe_pose2im.pix2pixhd import convert_files, grouped_key
from tests.pose2im import layouts
from tests.pose2im.conftest import CHANNELS, tiny


def pix2pixhd_generator(norm: str = "instance", channels: int = CHANNELS) -> dict[str, torch.Tensor]:
    """A pix2pixHD global generator state dict at the tiny scale (ngf 8, 2 downsamplings, 2 blocks)."""
    return layouts.random_state(layouts.generator_keys(channels, 8, 2, 2, norm), seed=1)


def pix2pixhd_discriminator(grouped: bool = True, channels: int = CHANNELS) -> dict[str, torch.Tensor]:
    """A pix2pixHD discriminator state dict at the tiny scale (ndf 8, 2 layers, 2 scales); ``grouped``:
    trained with feature matching, else with ``--no_ganFeat_loss``."""
    return layouts.random_state(layouts.discriminator_keys(channels + 3, 8, 2, 2, grouped=grouped), seed=2)


def assert_loaded(network: torch.nn.Module, expected: dict[str, torch.Tensor]) -> None:
    """Every tensor of ``expected`` arrived unchanged in ``network``, and nothing else is there."""
    state = network.state_dict()
    assert state.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(state[key], value), key


@pytest.fixture
def checkpoints(tmp_path):
    """A pix2pixHD checkpoint folder: latest_net_G.pth and latest_net_D.pth (plain state dicts)."""
    torch.save(pix2pixhd_generator(), tmp_path / "latest_net_G.pth")
    torch.save(pix2pixhd_discriminator(), tmp_path / "latest_net_D.pth")
    return tmp_path


def test_generator_round_trip_through_the_command(plugins, checkpoints, tmp_path):
    out = tmp_path / "pose2im.safetensors"
    result = run_cli(["convert", "pix2pixhd-g", str(checkpoints / "latest_net_G.pth"), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    settings = "--set model.ngf=8 --set model.n_downsample=2 --set model.n_blocks=2 --set model.norm=instance"
    assert f"--set model.init={out} {settings}" in result.stdout
    original = pix2pixhd_generator()
    converted = load_file(out)
    assert converted.keys() == {f"generator.{key}" for key in original}
    assert all(torch.equal(converted[f"generator.{key}"], value) for key, value in original.items())
    model = tiny(init=str(out))
    assert_loaded(model.networks["generator"], original)
    assert model.notes["init"] == f"generator loaded from {out}"


def test_generator_and_discriminator_into_one_file(checkpoints, tmp_path):
    out = tmp_path / "both.safetensors"
    convert_files(checkpoints / "latest_net_G.pth", checkpoints / "latest_net_D.pth", out)
    assert load_file(out).keys() == {f"generator.{key}" for key in pix2pixhd_generator()} | {
        f"discriminator.{key}" for key in pix2pixhd_discriminator()
    }
    model = tiny(init=str(out))
    assert_loaded(model.networks["generator"], pix2pixhd_generator())
    assert_loaded(model.networks["discriminator"], pix2pixhd_discriminator())


def test_a_discriminator_trained_without_feature_matching_is_regrouped(tmp_path):
    flat = pix2pixhd_discriminator(grouped=False)
    assert "layer1.8.weight" in flat  # the last conv of scale 1: 2 + 3 * n_layers
    torch.save({f"module.{k}": v for k, v in flat.items()}, tmp_path / "net_D.pth")  # DataParallel
    out = tmp_path / "d.safetensors"
    assert run_cli(["convert", "pix2pixhd-d", str(tmp_path / "net_D.pth"), "-o", str(out)]).exit_code == 0
    # the two layouts list the same tensors in the same order: zipped, they are the regrouping
    grouped_names = [key for key, _ in layouts.discriminator_keys(CHANNELS + 3, 8, 2, 2, grouped=True)]
    regrouped = {grouped: flat[key] for key, grouped in zip(flat, grouped_names, strict=True)}
    assert regrouped["scale1_layer3.0.weight"] is flat["layer1.8.weight"]
    model = tiny(init=str(out))
    assert_loaded(model.networks["discriminator"], regrouped)


def test_grouping_of_flat_discriminator_layers():
    # n_layers 3: [conv, lrelu], 3 × [conv, norm, lrelu], [conv] → flat indices 0..11
    assert [grouped_key(i, 3) for i in (0, 1, 2, 3, 4, 5, 8, 10, 11)] == [
        (0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 0), (3, 0), (3, 2), (4, 0),
    ]  # fmt: skip


def test_batch_norm_generators_are_recognized(tmp_path):
    torch.save(pix2pixhd_generator("batch"), tmp_path / "g.pth")
    converted = convert_files(tmp_path / "g.pth", None, tmp_path / "g.safetensors")
    assert converted.settings["norm"] == "batch"
    model = tiny(norm="batch", init=str(tmp_path / "g.safetensors"))
    assert_loaded(model.networks["generator"], pix2pixhd_generator("batch"))
    assert "model.2.running_var" in pix2pixhd_generator("batch")


def test_a_mismatch_names_the_tensor(tmp_path):
    state = pix2pixhd_generator()
    state["model.10.conv_block.5.weight"] = torch.zeros(32, 32, 1, 1)
    torch.save(state, tmp_path / "g.pth")
    message = r"tensor 'model.10.conv_block.5.weight' .* \(32, 32, 1, 1\) .* \(32, 32, 3, 3\)"
    with pytest.raises(UsageError, match=message):
        convert_files(tmp_path / "g.pth", None, tmp_path / "g.safetensors")
    state = pix2pixhd_generator()
    state["model.99.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "extra.pth")
    with pytest.raises(UsageError, match="holds tensor 'model.99.weight' that this model does not have"):
        convert_files(tmp_path / "extra.pth", None, tmp_path / "g.safetensors")


def test_a_discriminator_mismatch_names_the_tensor(tmp_path):
    state = pix2pixhd_discriminator()
    state["scale1_layer2.0.weight"] = torch.zeros(32, 16, 3, 3)
    torch.save(state, tmp_path / "d.pth")
    with pytest.raises(UsageError, match=r"tensor 'scale1_layer2.0.weight' .* \(32, 16, 3, 3\) .* \(32, 16, 4, 4\)"):
        convert_files(None, tmp_path / "d.pth", tmp_path / "d.safetensors")


def test_a_converted_file_for_another_architecture_says_what_to_set(checkpoints, tmp_path):
    out = tmp_path / "g.safetensors"
    convert_files(checkpoints / "latest_net_G.pth", None, out)
    with pytest.raises(UsageError, match=r"'model.1.weight'.*--set model.ngf=8 --set model.n_downsample=2"):
        tiny(ngf=16, init=str(out))


def test_other_files_are_refused_with_a_reason(tmp_path):
    torch.save({"model1_1.1.weight": torch.zeros(1), "model.1.weight": torch.zeros(1)}, tmp_path / "local.pth")
    with pytest.raises(UsageError, match="local enhancer"):
        convert_files(tmp_path / "local.pth", None, tmp_path / "x.safetensors")
    torch.save({"fc.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(UsageError, match="not a pix2pixHD global generator"):
        convert_files(tmp_path / "other.pth", None, tmp_path / "x.safetensors")
    with pytest.raises(UsageError, match="must end in .safetensors"):
        convert_files(tmp_path / "other.pth", None, tmp_path / "x.pth")


def test_command_errors_are_one_line_and_help_is_complete(plugins, checkpoints, tmp_path):
    out = str(tmp_path / "a.safetensors")
    result = run_cli(["convert", "pix2pixhd-x", str(checkpoints / "latest_net_G.pth"), "--out", out])
    assert result.exit_code == 2 and "choose pix2pixhd-g or pix2pixhd-d" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    result = run_cli(["convert", "pix2pixhd-g", str(tmp_path / "none.pth"), "--out", out])
    assert result.exit_code == 2 and "does not exist" in result.stderr
    from typer.testing import CliRunner

    from metaframe.cli import build_app

    help_text = CliRunner().invoke(build_app(), ["convert", "--help"], terminal_width=200).output
    for phrase in ("pix2pixhd-g", "pix2pixhd-d", "--out", "--discriminator", "weights_only=True", "model.init"):
        assert phrase in help_text


def test_a_generator_and_discriminator_from_different_models_are_refused(checkpoints, tmp_path):
    torch.save(pix2pixhd_discriminator(channels=CHANNELS + 1), tmp_path / "other_D.pth")
    with pytest.raises(UsageError, match="takes 5 pose channels but the discriminator takes 6"):
        convert_files(checkpoints / "latest_net_G.pth", tmp_path / "other_D.pth", tmp_path / "x.safetensors")


def test_the_converted_file_has_the_permissions_of_any_file_the_user_makes(checkpoints, tmp_path):
    out = tmp_path / "g.safetensors"
    convert_files(checkpoints / "latest_net_G.pth", None, out)
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


class Payload:
    def __reduce__(self):
        return (print, ("unpickled!",))


def test_a_pickle_is_refused_in_one_line_without_torchs_warning(plugins, tmp_path):
    torch.save({"weight": Payload()}, tmp_path / "evil.pth", pickle_protocol=4)
    result = run_cli(["convert", "pix2pixhd-g", str(tmp_path / "evil.pth"), "--out", str(tmp_path / "g.safetensors")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error:"), result.stderr
    assert "unpickled!" not in result.stdout and not (tmp_path / "g.safetensors").exists()

"""The VGG19 perceptual loss: on with a local weights file, off (and said so, once) without one."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from metaframe.errors import UsageError
from metaframe_pose2im.vgg import VGG19Features
from tests.pose2im.conftest import make_batch, tiny

# torchvision's vgg19().features: the convolutions up to conv5_1, by index, with their channels.
TORCHVISION_CONVS = {0: (3, 64), 2: (64, 64), 5: (64, 128), 7: (128, 128), 10: (128, 256), 12: (256, 256),
                     14: (256, 256), 16: (256, 256), 19: (256, 512), 21: (512, 512), 23: (512, 512),
                     25: (512, 512), 28: (512, 512)}  # fmt: skip
OFF = "off: no VGG19 weights file given (set model.vgg_weights=PATH)"


def torchvision_like_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A randomly initialized VGG19 state dict with torchvision's key names, deeper layers and classifier."""
    torch.manual_seed(seed)
    state = {f"features.{key}": value for key, value in VGG19Features().features.state_dict().items()}
    state["features.30.weight"] = torch.randn(512, 512, 3, 3)  # conv5_2: present in the file, unused
    state["classifier.6.bias"] = torch.randn(1000)
    return state


@pytest.fixture
def vgg_file(tmp_path):
    path = tmp_path / "vgg19.pth"
    torch.save(torchvision_like_state(), path)
    return path


def test_the_trunk_has_torchvision_names_and_shapes():
    convs = {int(key.split(".")[1]): tuple(value.shape[:2][::-1]) for key, value in
             VGG19Features().state_dict().items() if key.endswith("weight")}  # fmt: skip
    assert convs == TORCHVISION_CONVS


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_on_with_a_weights_file(tmp_path, suffix):
    path = tmp_path / f"vgg19{suffix}"
    state = torchvision_like_state()
    torch.save(state, path) if suffix == ".pth" else save_file(state, path)
    model = tiny(vgg_weights=str(path))
    assert model.notes["perceptual_loss"] == f"on: VGG19 weights from {path}"
    loaded = model.perceptual.vgg.features[28].weight
    assert torch.equal(loaded, state["features.28.weight"]) and not loaded.requires_grad
    log = model.inner_step(make_batch(2), model.inner_optimizers())
    assert log["g_vgg"] > 0


def test_the_vgg_term_is_pix2pixhds(vgg_file):
    model, batch = tiny(vgg_weights=str(vgg_file), lambda_fm=0.0), make_batch(2)
    fake = model.generate(batch["pose"])
    vgg = model.perceptual.vgg
    expected = sum(
        w * nn.functional.l1_loss(a, b)
        for w, a, b in zip([1 / 32, 1 / 16, 1 / 8, 1 / 4, 1], vgg(fake), vgg(batch["image"]), strict=True)
    )
    terms = model.generator_terms(batch["pose"], batch["image"], fake)
    torch.testing.assert_close(terms["vgg"], 10 * expected)


def test_off_without_a_file_recorded_and_not_printed_by_the_model(capsys):
    first, second = tiny(), tiny()
    assert first.notes["perceptual_loss"] == second.notes["perceptual_loss"] == OFF
    assert capsys.readouterr().err == ""  # the run says its model's notes once it has started
    assert "g_vgg" not in first.inner_step(make_batch(2), first.inner_optimizers())
    assert tiny(lambda_vgg=0.0).notes["perceptual_loss"] == "off: model.lambda_vgg=0"


def test_a_missing_file_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="nope.pth does not exist"):
        tiny(vgg_weights=str(tmp_path / "nope.pth"))


def test_a_wrong_file_names_the_tensor(tmp_path):
    state = torchvision_like_state()
    state["features.10.weight"] = torch.zeros(256, 64, 3, 3)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(UsageError, match=r"'features.10.weight'.*\(256, 64, 3, 3\).*\(256, 128, 3, 3\)"):
        tiny(vgg_weights=str(tmp_path / "bad.pth"))
    torch.save({"conv.weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(UsageError, match="lacks tensor 'features.0.weight'"):
        tiny(vgg_weights=str(tmp_path / "other.pth"))


def test_a_pickled_model_is_refused_not_unpickled(tmp_path):
    torch.save(nn.Linear(2, 2), tmp_path / "model.pth")  # a whole module: loading it would run pickle
    with pytest.raises(UsageError, match="weights_only=True"):
        tiny(vgg_weights=str(tmp_path / "model.pth"))

import pytest
import torch

from metaframe.build import build_setup
from metaframe.checkpoint import atomic_write, check_compatible, load_into, save_weights
from metaframe.config import Config
from metaframe.errors import UsageError
from metaframe.testing import small_settings


def mlp_session(plugins, **model_options):
    config = Config("reptile", "mlp", "sine", small_settings())
    config.options["model"] = model_options
    return build_setup(config, plugins)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("old")

    def failing(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, failing)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"], "no temporary file left behind"


def test_weights_round_trip(plugins, tmp_path):
    source, target = mlp_session(plugins), mlp_session(plugins)
    for p in source.model.networks.parameters():
        p.data.normal_()
    save_weights(tmp_path / "w.safetensors", source.model)
    load_into(target.model, tmp_path / "w.safetensors")
    for a, b in zip(source.model.networks.parameters(), target.model.networks.parameters()):
        assert torch.equal(a, b)


def test_loading_into_another_shape_names_the_first_mismatching_tensor(plugins, tmp_path):
    save_weights(tmp_path / "w.safetensors", mlp_session(plugins).model)
    wider = mlp_session(plugins, hidden="64,40").model
    with pytest.raises(UsageError, match=r"tensor 'mlp.0.weight' has shape \(40, 1\) but this model's is \(64, 1\)"):
        load_into(wider, tmp_path / "w.safetensors")


def test_missing_and_extra_tensors_are_named(plugins):
    model = mlp_session(plugins).model
    state = {k: v for k, v in model.networks.state_dict().items()}
    state = {f"mlp.{k.split('.', 1)[1]}": v for k, v in state.items()}
    with pytest.raises(UsageError, match="lacks tensor 'mlp.0.bias'"):
        check_compatible(model, {k: v for k, v in state.items() if k != "mlp.0.bias"}, "ckpt")
    with pytest.raises(UsageError, match="holds tensor 'zzz' that this model does not have"):
        check_compatible(model, {**state, "zzz": torch.zeros(1)}, "ckpt")


def test_missing_weights_file_is_a_clear_error(plugins, tmp_path):
    with pytest.raises(UsageError, match="no weights at"):
        load_into(mlp_session(plugins).model, tmp_path / "nope.safetensors")


def test_atomic_writes_get_the_usual_permissions(tmp_path):
    import os
    import stat

    atomic_write(tmp_path / "f.txt", lambda tmp: tmp.write_text("x"))
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o666 & ~mask

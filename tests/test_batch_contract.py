"""The batch contract: declared keys and shapes are compared before step 0 and checked against real batches."""

import json

import pytest
import torch

from metaframe.batch_contract import batch_errors, check_batch_keys
from metaframe.errors import UsageError
from metaframe.testing import check_model, check_sampler, run_cli
from tests.plugins import keyed

SINE_KEYS = {"x": ("B", 1), "y": ("B", 1)}
QUICK = ["--meta-iterations", "2", "--k", "3", "--t", "2", "--quiet"]


def test_a_missing_key_is_one_line_naming_model_task_and_key():
    with pytest.raises(UsageError) as refused:
        check_batch_keys("sine", SINE_KEYS, "depth-regressor", keyed.DepthRegressor.needs_keys)
    assert str(refused.value) == (
        "model 'depth-regressor' needs batch key 'depth', which task 'sine' does not yield (its batches hold "
        "x, y); pick a model and a task made for each other"
    )


def test_a_fixed_size_that_differs_is_refused_and_a_named_one_is_not():
    with pytest.raises(UsageError, match=r"needs batch key 'x' shaped B×2, but task 'sine' yields it shaped B×1"):
        check_batch_keys("sine", SINE_KEYS, "wide", {"x": ("B", 2)})
    with pytest.raises(UsageError, match=r"shaped B×C×H×W, but task 'sine' yields it shaped B×1"):
        check_batch_keys("sine", SINE_KEYS, "images", {"x": ("B", "C", "H", "W")})
    check_batch_keys("sine", SINE_KEYS, "any-width", {"x": ("B", "in_features"), "y": None})


@pytest.mark.parametrize("yields, needs", [(None, {"depth": ("B", 1)}), (SINE_KEYS, None), (None, None)])
def test_a_side_that_declares_nothing_is_not_checked(yields, needs):
    check_batch_keys("task", yields, "model", needs)


def test_batch_errors_name_every_way_a_batch_breaks_its_declaration():
    declared = {"image": ("B", 3, "H", "W"), "pose": ("B", "C", "H", "W"), "label": None}
    good = {"image": torch.zeros(2, 3, 8, 8), "pose": torch.zeros(2, 5, 8, 8), "label": torch.zeros(2)}
    assert batch_errors(declared, good) == []
    bad = {"image": torch.zeros(2, 1, 8, 8), "pose": torch.zeros(2, 5, 8, 9), "extra": torch.zeros(2)}
    assert batch_errors(declared, bad) == [
        "declared key 'label' is missing",
        "key 'extra' is not declared",
        "'image' has shape (2, 1, 8, 8), declared B×3×H×W",
        "'pose' has W = 9, but W = 8 elsewhere in the batch",
    ]
    assert batch_errors({"x": ("B", 1)}, {"x": torch.zeros(2)}) == ["'x' has shape (2,), declared B×1"]


def test_check_sampler_catches_a_declaration_its_batches_do_not_keep(monkeypatch):
    sampler = keyed.DepthSine(k=3)
    check_sampler(sampler, 3)
    monkeypatch.setattr(keyed.DepthSine, "batch_keys", {"x": ("B", 1), "y": ("B", 1)})
    with pytest.raises(AssertionError, match="support batch breaks the declared batch_keys: key 'depth' is not"):
        check_sampler(sampler, 3)


def test_check_model_catches_a_task_without_the_keys_the_model_needs():
    task = keyed.DepthSine(k=3).sample(torch.Generator().manual_seed(0))
    check_model(keyed.DepthRegressor(), task)
    del task.support["depth"]
    with pytest.raises(AssertionError, match=r"needs batch keys \['depth'\]"):
        check_model(keyed.DepthRegressor(), task)


def test_a_model_runs_on_a_task_that_yields_what_it_needs(plugins, tmp_path):
    out = tmp_path / "run"
    args = ["run", "reptile", "--model", "depth-regressor", "--task", "depth-sine", *QUICK, "--out", str(out)]
    result = run_cli(args)
    assert result.exit_code == 0, result.stderr
    assert json.loads((out / "run.json").read_text())["status"] == "finished"


def test_compare_refuses_the_mismatch_before_anything_trains(plugins, tmp_path):
    out = tmp_path / "cmp"
    args = ["compare", "reptile", "fomaml", "--model", "depth-regressor", "--task", "sine", *QUICK, "--out", str(out)]
    result = run_cli(args)
    assert result.exit_code == 2 and "needs batch key 'depth', which task 'sine' does not yield" in result.stderr
    assert not out.exists()

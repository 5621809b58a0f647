"""An interrupted run resumed with --resume ends with the same weights as an uninterrupted one."""

import pytest
from safetensors.torch import load_file

import metaframe.training
from metaframe.plugins import load_plugins
from metaframe.testing import run_cli

ARGS = ["--model", "mlp", "--task", "sine", "--meta-iterations", "6", "--meta-batch", "2", "--k", "5", "--t", "3",
        "--set", "checkpoint_every=2", "--device", "cpu", "--quiet"]  # fmt: skip


@pytest.mark.parametrize("algorithm", load_plugins().algorithms.names())  # every installed algorithm
def test_resume_reaches_the_same_weights(plugins, tmp_path, monkeypatch, algorithm):
    whole = run_cli(["run", algorithm, *ARGS, "--out", str(tmp_path / "whole")])
    assert whole.exit_code == 0, whole.stderr

    original = metaframe.training.RunFolder.checkpoint
    calls = []

    def crash_after_second_checkpoint(self, model, outer, iteration):
        original(self, model, outer, iteration)
        calls.append(iteration)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(metaframe.training.RunFolder, "checkpoint", crash_after_second_checkpoint)
    crashed = run_cli(["run", algorithm, *ARGS, "--out", str(tmp_path / "split")])
    assert crashed.exit_code == 130
    assert "checkpoint after meta-iteration 4 is kept" in crashed.stderr and "--resume" in crashed.stderr
    assert crashed.stderr.strip().endswith("error: interrupted (SIGINT)")
    monkeypatch.setattr(metaframe.training.RunFolder, "checkpoint", original)
    resumed = run_cli(["run", algorithm, "--out", str(tmp_path / "split"), "--resume", "--quiet"])
    assert resumed.exit_code == 0, resumed.stderr
    assert "resuming" in resumed.stderr and "at meta-iteration 4 of 6" in resumed.stderr

    a, b = load_file(tmp_path / "whole" / "model.safetensors"), load_file(tmp_path / "split" / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert (a[key] == b[key]).all(), key
    lines = (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 6, "metrics logged after the last checkpoint are replaced, not duplicated"


def test_resume_without_a_run_is_a_clear_error(plugins, tmp_path):
    result = run_cli(["run", "reptile", "--out", str(tmp_path / "none"), "--resume"])
    assert result.exit_code == 2 and "holds no run" in result.stderr


def test_existing_run_is_not_overwritten(plugins, tmp_path):
    assert run_cli(["run", "reptile", *ARGS, "--out", str(tmp_path / "r")]).exit_code == 0
    again = run_cli(["run", "reptile", *ARGS, "--out", str(tmp_path / "r")])
    assert again.exit_code == 2 and "already holds a run; pass --resume" in again.stderr

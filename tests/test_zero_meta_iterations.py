"""``--meta-iterations 0`` trains nothing: a finished run folder holding the starting weights (``--init``'s, or
a model's shipped ones), which ``eval`` and ``retarget`` take like any run."""

from __future__ import annotations

import json

import torch
from safetensors.torch import load_file

import metaframe
from metaframe.testing import run_cli

SINE = {"model": "mlp", "task": "sine", "k": 3, "t": 2, "overrides": ["task.eval_tasks=2"]}


def test_a_run_of_no_meta_iteration_holds_the_weights_it_starts_from(tmp_path):
    trained = metaframe.run("reptile", **SINE, meta_iterations=2, out=tmp_path / "trained")
    kept = metaframe.run("reptile", **SINE, meta_iterations=0, init=trained.path, out=tmp_path / "kept")
    record = json.loads((kept.path / "run.json").read_text())
    assert record["status"] == "finished" and record["config"]["settings"]["meta_iterations"] == 0
    assert not (kept.path / "metrics.jsonl").exists() and kept.metrics == [] and kept.iteration == 0
    before, after = load_file(trained.weights), load_file(kept.weights)
    assert before.keys() == after.keys()
    assert all(torch.equal(before[name], after[name]) for name in before)
    fresh = load_file(metaframe.run("reptile", **SINE, meta_iterations=0, out=tmp_path / "fresh").weights)
    assert any(not torch.equal(before[name], fresh[name]) for name in before)  # the 2 iterations did move them


def test_the_command_says_there_are_no_metrics_and_eval_takes_the_folder(tmp_path):
    out = tmp_path / "none"
    args = ["--model", "mlp", "--task", "sine", "--k", "3", "--t", "2", "--set", "task.eval_tasks=2", "--quiet"]
    result = run_cli(["run", "reptile", *args, "--meta-iterations", "0", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "no metrics (no meta-iteration ran)" in result.stdout
    assert run_cli(["eval", "--init", str(out), "--t", "2"]).exit_code == 0


def test_a_negative_count_is_refused_in_one_line():
    result = run_cli(["run", "reptile", "--model", "mlp", "--task", "sine", "--meta-iterations", "-1"])
    assert result.exit_code == 2 and "--meta-iterations" in result.stderr

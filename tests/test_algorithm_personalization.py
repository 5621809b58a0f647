"""An algorithm owns how its models are personalized: eval scores a run with the algorithm's own rule,
and the algorithm's meta-learned tensors live in model.safetensors and survive --resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from metaframe.loop import adapt
from metaframe.plugins import load_plugins, use_plugins
from metaframe.testing import run_cli
from tests import personalized_scores
from tests.plugins import adaptive

SINE = ["--model", "mlp", "--task", "sine", "--k", "5", "--t", "4", "--quiet", "--device", "cpu"]
EVAL_TASKS = 4


@pytest.fixture
def with_adaptive():
    plugins = load_plugins(extra=[("adaptive", adaptive)])
    with use_plugins(plugins):
        yield plugins


def scores_under(run: Path, plugins, rule) -> float:
    """Mean query MSE after personalizing with ``rule(model, meta_tensors)`` — the protocol written out."""
    return personalized_scores.scores_under(run, plugins, rule, EVAL_TASKS)


def eval_mse(run: Path, tmp_path: Path) -> float:
    report = tmp_path / "eval.json"
    result = run_cli(["eval", "--init", str(run), "--set", f"task.eval_tasks={EVAL_TASKS}", "--json", str(report)])
    assert result.exit_code == 0, result.stderr
    return json.loads(report.read_text())["rows"][0]["metrics"]["mse"]


def test_eval_personalizes_a_head_only_run_with_its_own_rule(with_adaptive, tmp_path):
    run = tmp_path / "anil"
    assert run_cli(["run", "head-only", *SINE, "--meta-iterations", "3", "--out", str(run)]).exit_code == 0
    own = scores_under(run, with_adaptive, lambda model, _: adaptive.HeadOnly(model, 4).personalize)
    default = scores_under(run, with_adaptive, lambda model, _: adapt)
    assert eval_mse(run, tmp_path) == pytest.approx(own, rel=1e-6)
    assert abs(own - default) > 1e-3, "the rules differ, so the test can tell which one eval used"


def test_learned_step_sizes_are_saved_with_the_weights_and_used_by_eval(with_adaptive, tmp_path):
    run = tmp_path / "metasgd"
    assert run_cli(["run", "learned-rates", *SINE, "--meta-iterations", "4", "--out", str(run)]).exit_code == 0
    weights = load_file(run / "model.safetensors")
    rates = {k: v for k, v in weights.items() if k.startswith("algorithm.log_rate.")}
    assert set(rates) == {
        f"algorithm.log_rate.{n}" for n in ("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias")
    }

    def learned(model, tensors):
        algorithm = adaptive.LearnedRates(model, 4)
        algorithm.load_meta_tensors(tensors)
        return algorithm.personalize

    own = scores_under(run, with_adaptive, learned)
    initial = scores_under(run, with_adaptive, lambda model, _: adaptive.LearnedRates(model, 4).personalize)
    assert eval_mse(run, tmp_path) == pytest.approx(own, rel=1e-6)
    assert abs(own - initial) > 1e-4, "the learned step sizes changed the score"


def test_learned_step_sizes_survive_a_resume(with_adaptive, tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert run_cli(["run", "learned-rates", *SINE, "--meta-iterations", "4", "--out", str(straight)]).exit_code == 0
    args = ["run", "learned-rates", *SINE, "--meta-iterations", "2", "--set", "checkpoint_every=1", "--out", str(split)]
    assert run_cli(args).exit_code == 0
    resumed = run_cli(["run", "learned-rates", "--out", str(split), "--resume", "--meta-iterations", "4"])
    assert resumed.exit_code == 0, resumed.stderr
    expected, got = load_file(straight / "model.safetensors"), load_file(split / "model.safetensors")
    assert expected.keys() == got.keys()
    assert all(torch.equal(expected[k], got[k]) for k in expected)

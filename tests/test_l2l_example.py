"""The learn2learn adapter example (examples/metaframe_learn2learn): found through its entry point, its MAML
gives our ``maml``'s meta-gradient, and a Meta-SGD run keeps its learned step sizes in model.safetensors,
where eval finds them and personalizes with them.

Most of it needs learn2learn, which plain pip cannot install here; those tests skip, saying so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from metaframe.loop import adapt, inner_lr_factor
from metaframe.params import named_parameters, restore
from metaframe.plugins import Plugins, load_plugins, use_plugins
from metaframe.testing import check_algorithm, run_cli, small_settings
from tests.personalized_scores import scores_under

EXAMPLE = Path(__file__).parents[1] / "examples" / "metaframe_learn2learn"
NAMES = ("l2l-maml", "l2l-metasgd")
SINE = ["--model", "mlp", "--task", "sine", "--k", "5", "--t", "3", "--meta-batch", "2", "--quiet", "--device", "cpu"]
EVAL_TASKS = 4
needs_learn2learn = pytest.mark.skipif(
    importlib.util.find_spec("learn2learn") is None,
    reason="learn2learn is not installed: plain pip cannot build 0.2.0 on Python 3.11 and its dependencies "
    "pull a CUDA torch; examples/metaframe_learn2learn/README.md has the recipe",
)


@pytest.fixture
def l2l(monkeypatch) -> Plugins:
    """The installed plugins plus the adapter, registered from its source folder, made active."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    from metaframe_learn2learn import plugin

    plugins = load_plugins(extra=[("learn2learn", plugin)])
    with use_plugins(plugins):
        yield plugins


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The adapter pip-installed (without dependencies, offline) into a folder of its own."""
    source, target = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("site")
    shutil.copytree(EXAMPLE, source, dirs_exist_ok=True, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    offline = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    args = ["-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target), str(source)]
    subprocess.run([sys.executable, *args], env=offline, cwd=source, capture_output=True, check=True)
    return target


def listing(site: Path, hide_learn2learn: bool) -> dict:
    """``metaframe plugins --json`` in a fresh process that sees the installed adapter."""
    hide = "sys.modules['learn2learn'] = None; " if hide_learn2learn else ""  # import and find_spec: absent
    code = f"import sys; {hide}from metaframe.entry import main; sys.argv[1:] = ['plugins', '--json']; main()"
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=site, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_without_learn2learn_the_plugin_fails_with_the_recipe_and_registers_nothing(site):
    found = listing(site, hide_learn2learn=True)
    info = next(info for info in found["plugins"] if info["name"] == "learn2learn")
    assert info["status"] == "failed" and info["version"] == "0.1.0"
    assert "learn2learn is not installed" in info["error"] and "metaframe_learn2learn/README.md" in info["error"]
    assert not [entry for entry in found["algorithms"] if entry["name"] in NAMES]


@needs_learn2learn
def test_installed_plugin_registers_both_algorithms(site):
    found = listing(site, hide_learn2learn=False)
    assert {"name": "learn2learn", "version": "0.1.0", "status": "ok", "error": None} in found["plugins"]
    assert {e["name"] for e in found["algorithms"] if e["plugin"] == "learn2learn"} == set(NAMES)


@needs_learn2learn
def test_the_algorithms_load_without_importing_learn2learn(l2l):
    # learn2learn's own __init__ would import gym and torchvision; the adapter loads four files of it alone
    assert set(NAMES) <= set(l2l.algorithms.names())
    assert not [name for name in sys.modules if name.partition(".")[0] == "learn2learn"]


def sine_and_mlp(plugins: Plugins, k: int = 5):
    """metaframe's sine toy: a task sampler and a freshly seeded MLP for it."""
    sampler = plugins.tasks.get("sine").build({}, k=k)
    torch.manual_seed(0)
    return sampler, plugins.models.get("mlp").build({}, sampler.info)


@needs_learn2learn
@pytest.mark.parametrize("name", NAMES)
def test_contract(l2l, name):
    sampler, model = sine_and_mlp(l2l)
    algorithm = l2l.algorithms.get(name).build({}, model, small_settings(k=5))
    generator = torch.Generator().manual_seed(0)
    logs = check_algorithm(algorithm, model, [sampler.sample(generator) for _ in range(2)])
    assert logs["query_loss"] > 0


@needs_learn2learn
def test_learn2learn_maml_gives_the_meta_gradient_of_our_maml(l2l):
    sampler, model = sine_and_mlp(l2l)
    settings = small_settings(k=5, t=3)  # the default schedule: step sizes 1, 1, 0.5 times the lr
    ours = l2l.algorithms.get("maml").build({"inner_optimizer": "sgd"}, model, settings)
    theirs = l2l.algorithms.get("l2l-maml").build({}, model, settings)
    task = sampler.sample(torch.Generator().manual_seed(0))
    expected, _ = ours.meta_gradient(task)
    got = torch.autograd.grad(theirs.query_loss(task), list(named_parameters(model.networks, ["mlp"]).values()))
    assert max(grad.abs().max().item() for grad in expected) > 1e-2, "a meta-gradient worth comparing"
    for want, have in zip(expected, got):
        torch.testing.assert_close(have, want, rtol=1e-5, atol=1e-7)


def metasgd_rule(rates: dict[str, torch.Tensor]):
    """Meta-SGD written out: θ ← θ − factor(i) · α ⊙ ∇L(θ), with α the saved step sizes."""

    def personalize(model, support, steps, schedule):
        params = {k: p.detach().requires_grad_() for k, p in named_parameters(model.networks, ["mlp"]).items()}
        for i in range(steps):
            grads = torch.autograd.grad(model.functional_loss(params, support), list(params.values()))
            factor = inner_lr_factor(i, steps, schedule)
            stepped = {k: p - factor * rates[f"lr.{k}"] * g for (k, p), g in zip(params.items(), grads)}
            params = {k: p.detach().requires_grad_() for k, p in stepped.items()}
        restore(model.networks, params)

    return personalize


def score_under(run: Path, plugins: Plugins, rule) -> float:
    """Mean query MSE of the held-out tasks after ``rule(saved algorithm tensors)`` personalizes the run."""
    return scores_under(run, plugins, lambda model, tensors: rule(tensors), EVAL_TASKS)


@needs_learn2learn
def test_metasgd_step_sizes_are_saved_with_the_weights_and_used_by_eval(l2l, tmp_path):
    run = tmp_path / "metasgd"
    args = ["run", "l2l-metasgd", *SINE, "--meta-iterations", "3", "--set", "algorithm.outer_lr=0.01"]
    assert run_cli([*args, "--out", str(run)]).exit_code == 0
    weights = load_file(run / "model.safetensors")
    rates = {k.removeprefix("algorithm."): v for k, v in weights.items() if k.startswith("algorithm.")}
    shapes = {f"lr.{k}": v.shape for k, v in weights.items() if k.startswith("mlp.")}
    assert {k: v.shape for k, v in rates.items()} == shapes, "one step size per weight, under algorithm.lr."
    assert any((rate - 0.01).abs().max() > 1e-3 for rate in rates.values()), "the step sizes were meta-learned"

    report = tmp_path / "eval.json"
    result = run_cli(["eval", "--init", str(run), "--set", f"task.eval_tasks={EVAL_TASKS}", "--json", str(report)])
    assert result.exit_code == 0, result.stderr
    evaluated = json.loads(report.read_text())["rows"][0]["metrics"]["mse"]
    own = score_under(run, l2l, metasgd_rule)
    assert evaluated == pytest.approx(own, rel=1e-5)
    assert abs(own - score_under(run, l2l, lambda _: adapt)) > 1e-3, "the rules differ: the test can tell them apart"


@needs_learn2learn
def test_metasgd_resumes_exactly(l2l, tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert run_cli(["run", "l2l-metasgd", *SINE, "--meta-iterations", "2", "--out", str(straight)]).exit_code == 0
    args = ["run", "l2l-metasgd", *SINE, "--meta-iterations", "1", "--set", "checkpoint_every=1", "--out", str(split)]
    assert run_cli(args).exit_code == 0
    resumed = run_cli(["run", "l2l-metasgd", "--out", str(split), "--resume", "--meta-iterations", "2"])
    assert resumed.exit_code == 0, resumed.stderr
    expected, got = load_file(straight / "model.safetensors"), load_file(split / "model.safetensors")
    assert expected.keys() == got.keys() and any(k.startswith("algorithm.lr.") for k in got)
    assert all(torch.equal(expected[k], got[k]) for k in expected)

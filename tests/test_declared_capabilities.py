"""A model does what it declares: networks that share one loss get the functional inner step by default,
a capability a model cannot perform is refused before anything runs, a capability written as a string
(before 0.2.0) is refused naming the member to write, and a removed option says what replaced it."""

from __future__ import annotations

import importlib.metadata
import json

import pytest
import torch

from metaframe import hookimpl
from metaframe.plugins import load_plugins, use_plugins
from metaframe.protocols import Capability, OuterAlgorithm
from metaframe.testing import check_model, check_sampler, run_cli, small_settings
from tests.plugins import declared, quadratic

QUICK = ["--meta-iterations", "2", "--k", "2", "--t", "3", "--quiet"]


@pytest.fixture
def with_declared():
    """The installed plugins plus the quadratic and declared fixture plugins, made active."""
    loaded = load_plugins(extra=[("quadratic", quadratic), ("declared", declared)])
    with use_plugins(loaded):
        yield loaded


def points_task(plugins, k: int = 2):
    sampler = plugins.tasks.get("points").build({}, k=k)
    return sampler, sampler.sample(torch.Generator().manual_seed(0))


def test_networks_that_share_one_loss_get_the_functional_inner_step(with_declared, tmp_path):
    sampler, task = points_task(with_declared)
    check_model(declared.BodyHead(sampler.info["dim"]), task, steps=3)  # functional steps equal adapt's
    out = tmp_path / "maml"
    result = run_cli(["run", "maml", "--model", "body-head", "--task", "points", *QUICK, "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert json.loads((out / "run.json").read_text())["status"] == "finished"


@pytest.mark.parametrize(
    ("model", "line"),
    [
        ("boastful", "model 'boastful' declares the capability 'samples' but does not define render_samples"),
        ("turn-taker", "model 'turn-taker' declares 'functional' and adapts critic outside its functional_networks"),
        ("secretive", "model 'secretive' defines score_predictions but does not declare the capability 'predictions'"),
    ],
)
def test_a_capability_the_model_cannot_perform_is_refused_before_anything_runs(with_declared, tmp_path, model, line):
    out = tmp_path / "run"
    result = run_cli(["run", "reptile", "--model", model, "--task", "points", *QUICK, "--out", str(out)])
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {line}"), result.stderr
    fix = "declare it or remove the method" if model == "secretive" else "define it or leave the capability out"
    assert fix in result.stderr and len(result.stderr.strip().splitlines()) == 1 and not out.exists()
    sampler, task = points_task(with_declared)
    built = with_declared.models.get(model).build({}, sampler.info)
    with pytest.raises(AssertionError, match=line.removeprefix(f"model '{model}' ")):
        check_model(built, task)


def test_a_capability_written_as_a_string_is_refused_naming_its_member(with_declared, tmp_path):
    out = tmp_path / "run"
    result = run_cli(["run", "reptile", "--model", "old-style", "--task", "points", *QUICK, "--out", str(out)])
    line = (
        "error: model 'old-style' declares the capability 'functional' as a string; "
        "since 0.2.0 write Capability.FUNCTIONAL from metaframe.api"
    )
    assert result.exit_code == 2 and result.stderr.strip().splitlines() == [line], result.stderr
    assert not out.exists()
    sampler, task = points_task(with_declared)
    with pytest.raises(AssertionError, match="declares the capability 'functional' as a string"):
        check_model(with_declared.models.get("old-style").build({}, sampler.info), task)


def test_an_algorithm_that_requires_a_string_fails_its_plugin_when_it_registers():
    class OldAlgorithms:
        @hookimpl
        def register_algorithms(self, register):
            register("old-maml", lambda options, model, settings: None, "Written for 0.1.", requires={"functional"})

    plugins = load_plugins(entry_points=[], extra=[("old", OldAlgorithms())])
    info = plugins.info("old")
    assert info.status != "ok" and "old-maml" not in plugins.algorithms
    assert (
        "plugin 'old' registers algorithm 'old-maml', which requires the capability 'functional' as a string; "
        "since 0.2.0 write Capability.FUNCTIONAL from metaframe.api" in info.error
    ), info.error
    assert "\n" not in info.error


def test_a_class_registered_as_its_own_factory_is_checked_when_it_registers():
    class OldReptile(OuterAlgorithm):
        requires = frozenset({"samples"})  # type: ignore[assignment]

        def step(self, tasks, iteration):
            return {}

    class OldAlgorithms:
        @hookimpl
        def register_algorithms(self, register):
            register("old-reptile", OldReptile, requires={Capability.SAMPLES})

    info = load_plugins(entry_points=[], extra=[("old", OldAlgorithms())]).info("old")
    assert "registers algorithm 'old-reptile', which requires the capability 'samples' as a string" in info.error
    assert "write Capability.SAMPLES from metaframe.api" in info.error


def test_the_removed_capability_constants_name_their_replacement():
    with pytest.raises(ImportError, match=r"metaframe.api.SHOW was removed in 0.2.0: .* write Capability.SHOW"):
        from metaframe.api import SHOW  # noqa: F401


def test_a_task_whose_capabilities_and_methods_disagree_is_refused(with_declared, tmp_path):
    out = tmp_path / "run"
    result = run_cli(["run", "reptile", "--model", "quadratic", "--task", "shy-points", *QUICK, "--out", str(out)])
    line = "task 'shy-points' declares the capability 'show' but does not define show"
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {line}"), result.stderr
    assert not out.exists()
    with pytest.raises(AssertionError, match=line.removeprefix("task 'shy-points' ")):
        check_sampler(with_declared.tasks.get("shy-points").build({}, k=2), 2)


def test_a_subclass_may_drop_a_capability_its_base_declares(with_declared):
    sampler, task = points_task(with_declared)
    check_model(quadratic.PlainQuadratic(sampler.info["dim"], 0.1), task)  # inherits functional_loss, unused


def test_the_removed_inner_optimizer_names_what_replaced_it(plugins):
    for key in ("inner_optimizer", "inner_optimizr"):
        args = ["run", "maml", "--model", "quadratic", "--task", "points", "--set", f"algorithm.{key}=sgd"]
        result = run_cli(args)
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
        assert "algorithm.inner_optimizer was removed; the inner steps use the model's own inner optimizers" in (
            result.stderr
        )
        assert "outer_optimizer" not in result.stderr


def test_maml_still_refuses_networks_that_take_turns_without_their_step(with_declared):
    sampler, _ = points_task(with_declared)
    model = declared.TurnTaker(sampler.info["dim"], 0.1)
    with pytest.raises(Exception, match="take turns"):
        with_declared.algorithms.get("maml").build({}, model, small_settings())


def test_a_plugin_importing_a_removed_constant_fails_at_its_own_import_line(tmp_path, monkeypatch):
    (tmp_path / "old_capabilities.py").write_text("from metaframe.api import FUNCTIONAL, hookimpl\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    entry_point = importlib.metadata.EntryPoint("old", "old_capabilities", "metaframe")
    info = load_plugins(entry_points=[entry_point]).info("old")
    assert info.status == "failed" and "\n" not in info.error
    assert info.error.startswith("ImportError: metaframe.api.FUNCTIONAL was removed in 0.2.0: "), info.error
    assert info.error.endswith(f"(at {tmp_path / 'old_capabilities.py'}:1)"), info.error

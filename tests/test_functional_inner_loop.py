"""One inner loop: what second-order MAML differentiates is the iteration ``adapt`` runs.

With the graph cut, MAML's functional inner trajectory reaches ``adapt``'s weights (to 1e-6) on sine/mlp
and on pose2im; a functional step that drifts from ``inner_step`` is caught; the checkpointed inner loop
gives the same meta-gradient; optimizers are declared, never guessed.
"""

from __future__ import annotations

import json

import pytest
import torch

from metaframe.build import build_algorithm, build_setup
from metaframe.config import Config, Settings
from metaframe.errors import UsageError
from metaframe.functional import functional_adapt
from metaframe.params import FunctionalOptimizer, OptimizerSpec
from metaframe.protocols import Task
from metaframe.testing import check_functional_inner_loop, run_cli, small_settings
from tests.plugins.quadratic import Quadratic

T = 5


def sine_session(plugins, algorithm="maml", **model_options):
    config = Config(algorithm, "mlp", "sine", small_settings(k=5, t=T))
    config.options["model"] = dict(model_options)
    return build_setup(config, plugins)


def sine_task(session, seed=4):
    return session.sampler.sample(torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("schedule", [Settings.inner_schedule, "linear", "constant"])
def test_graph_cut_trajectory_equals_adapt_on_sine(plugins, optimizer, schedule):
    session = sine_session(plugins, optimizer=optimizer, lr=0.02, beta1=0.5)
    check_functional_inner_loop(session.model, sine_task(session), small_settings(t=T, inner_schedule=schedule))


def test_a_one_network_model_gets_the_functional_step_by_default():
    model = Quadratic(dim=3, lr=0.3)
    batch = {"c": torch.randn(4, 3, generator=torch.Generator().manual_seed(0))}
    check_functional_inner_loop(model, Task("point", batch, batch), small_settings(t=3))
    assert model.inner_optimizer_specs() == {"point": OptimizerSpec("sgd", 0.3)}


def test_checkpointed_inner_loop_gives_the_same_meta_gradient_on_sine(plugins):
    session = sine_session(plugins)
    session.model.networks.double()
    task = sine_task(session)
    task.support = {key: value.double() for key, value in task.support.items()}
    task.query = {key: value.double() for key, value in task.query.items()}
    plain = build_algorithm(session, plugins).meta_gradient(task)
    session.config.options["algorithm"] = {"checkpoint_inner": "true"}
    checkpointed = build_algorithm(session, plugins).meta_gradient(task)
    assert plain[1] == pytest.approx(checkpointed[1], rel=1e-12)
    for a, b in zip(plain[0], checkpointed[0]):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-10)


def test_run_json_records_what_maml_differentiates(plugins, tmp_path):
    out = tmp_path / "run"
    args = ["run", "maml", "--model", "mlp", "--task", "sine", "--meta-iterations", "2", "--k", "4", "--t", "2"]
    result = run_cli(
        [*args, "--device", "cpu", "--quiet", "--set", "algorithm.checkpoint_inner=true", "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    notes = json.loads((out / "run.json").read_text())["provenance"]["algorithm_notes"]
    assert notes["differentiated"] == ["mlp"] and notes["constant"] == [] and notes["checkpoint_inner"] is True
    assert notes["inner_optimizers"] == {"mlp": {"kind": "adam", "lr": 0.01, "betas": [0.0, 0.999], "eps": 1e-8}}


@pytest.mark.parametrize(
    "optimizer, refused",
    [
        (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), "SGD with momentum"),
        (lambda p: torch.optim.Adam(p, lr=0.1, weight_decay=0.01), "Adam with weight_decay"),
        (lambda p: torch.optim.Adam(p, lr=0.1, amsgrad=True), "Adam with amsgrad"),
        (lambda p: torch.optim.AdamW(p, lr=0.1), "AdamW"),
        (lambda p: torch.optim.RMSprop(p, lr=0.1), "RMSprop"),
    ],
)
def test_an_optimizer_without_a_differentiable_twin_is_refused_not_guessed(optimizer, refused):
    model = Quadratic(dim=2, lr=0.1)
    model.inner_optimizers = lambda: {"point": optimizer(model.networks["point"].parameters())}
    with pytest.raises(UsageError, match=f"Quadratic's inner optimizer for 'point'.*{refused}.*inner_optimizer_specs"):
        model.inner_optimizer_specs()


def test_plain_optimizers_are_read_exactly():
    params = [torch.nn.Parameter(torch.zeros(2))]
    adam = torch.optim.Adam(params, lr=0.2, betas=(0.5, 0.9), eps=1e-6)
    assert OptimizerSpec.of(adam) == OptimizerSpec("adam", 0.2, (0.5, 0.9), 1e-6)
    assert OptimizerSpec.of(torch.optim.SGD(params, lr=0.3)) == OptimizerSpec("sgd", 0.3)


def test_maml_refuses_a_model_that_differentiates_a_network_it_does_not_adapt(plugins):
    model = Quadratic(dim=2, lr=0.1)
    model.functional_networks = ("elsewhere",)
    with pytest.raises(UsageError, match="functional_networks .*'elsewhere'.* must be among"):
        plugins.algorithms.get("maml").build({}, model, small_settings())


def test_the_functional_step_changes_nothing_in_place_and_leaves_unused_weights():
    weights = {"net.a": torch.ones(2, requires_grad=True), "net.b": torch.ones(2, requires_grad=True)}
    optimizer = FunctionalOptimizer.fresh(OptimizerSpec("adam", 0.1), weights, differentiate=True)
    before = {key: value.clone() for key, value in optimizer.state.items()}
    moved, after = optimizer.at(0.5).step(weights, (weights["net.a"] ** 2).sum())
    assert moved["net.b"] is weights["net.b"] and not torch.equal(moved["net.a"], weights["net.a"])
    assert all(torch.equal(optimizer.state[key], before[key]) for key in before) and after.state["step"] == 1
    assert moved["net.a"].grad_fn is not None


def test_functional_adapt_leaves_the_model_weights_alone(plugins):
    session = sine_session(plugins)
    params = [p.detach().clone() for p in session.model.networks.parameters()]
    schedule = session.config.settings.inner_schedule
    weights = functional_adapt(session.model, sine_task(session).support, T, schedule, differentiate=("mlp",))
    assert all(torch.equal(a, b) for a, b in zip(params, session.model.networks.parameters()))
    assert set(weights) == {f"mlp.{k}" for k, _ in session.model.networks["mlp"].named_parameters()}


def test_maml_refuses_a_model_of_several_networks_without_its_functional_step(plugins):
    model = Quadratic(dim=2, lr=0.1)
    model.inner_optimizer_specs = lambda: {"point": OptimizerSpec("sgd", 0.1), "other": OptimizerSpec("sgd", 0.1)}
    with pytest.raises(UsageError, match="adapts 2 networks .*no functional_inner_step"):
        plugins.algorithms.get("maml").build({}, model, small_settings())

"""Reptile, FOMAML and MAML on ½‖w − c‖² with SGD (lr α, constant schedule, T steps).

After T steps w_T = c + (1 − α)^T (w₀ − c), so
  Reptile:  w₁ = w₀ + ε (1 − (1 − α)^T) (mean c − w₀)
  FOMAML:   g = (1 − α)^T (w₀ − mean c)
  MAML:     g = (1 − α)^{2T} (w₀ − mean c)
"""

import pytest
import torch

from metaframe.build import build_algorithm, build_setup
from metaframe.config import Config
from metaframe.testing import small_settings

ALPHA, T = 0.1, 3


def setup(plugins, algorithm, options=None, meta_batch=2):
    settings = small_settings(t=T, meta_batch=meta_batch, inner_schedule="constant", meta_iterations=4)
    config = Config(algorithm, "quadratic", "points", settings)
    config.options["model"] = {"lr": ALPHA}
    config.options["algorithm"] = options or {}
    session = build_setup(config, plugins)
    generator = torch.Generator().manual_seed(0)
    tasks = [session.sampler.sample(generator) for _ in range(meta_batch)]
    mean_c = torch.stack([task.support["c"][0] for task in tasks]).mean(0)
    return session, build_algorithm(session, plugins), tasks, mean_c


@pytest.mark.parametrize("iteration, epsilon", [(0, 1.0), (2, 0.5)])
def test_reptile_batched_with_linear_epsilon(plugins, iteration, epsilon):
    session, reptile, tasks, mean_c = setup(plugins, "reptile")
    w0 = session.model.networks["point"].w.detach().clone()
    logs = reptile.step(tasks, iteration)
    shrink = 1 - (1 - ALPHA) ** T
    expected = w0 + epsilon * shrink * (mean_c - w0)
    torch.testing.assert_close(session.model.networks["point"].w.detach(), expected)
    assert logs["epsilon"] == pytest.approx(epsilon)


def test_reptile_constant_epsilon(plugins):
    session, reptile, tasks, mean_c = setup(plugins, "reptile", {"epsilon": 0.3, "epsilon_schedule": "constant"}, 1)
    w0 = session.model.networks["point"].w.detach().clone()
    reptile.step(tasks, 3)
    expected = w0 + 0.3 * (1 - (1 - ALPHA) ** T) * (mean_c - w0)
    torch.testing.assert_close(session.model.networks["point"].w.detach(), expected)


def test_fomaml_applies_the_query_gradient_at_the_adapted_weights(plugins):
    session, fomaml, tasks, mean_c = setup(plugins, "fomaml", {"outer_optimizer": "sgd", "outer_lr": 0.5})
    w0 = session.model.networks["point"].w.detach().clone()
    fomaml.step(tasks, 0)
    expected = w0 - 0.5 * (1 - ALPHA) ** T * (w0 - mean_c)
    torch.testing.assert_close(session.model.networks["point"].w.detach(), expected)


def test_maml_differentiates_through_the_inner_loop(plugins):
    session, maml, tasks, mean_c = setup(plugins, "maml", {"outer_optimizer": "sgd", "outer_lr": 0.5})
    w0 = session.model.networks["point"].w.detach().clone()
    maml.step(tasks, 0)
    expected = w0 - 0.5 * (1 - ALPHA) ** (2 * T) * (w0 - mean_c)
    torch.testing.assert_close(session.model.networks["point"].w.detach(), expected)


def test_pretrain_is_plain_sgd_on_the_tasks(plugins):
    session, pretrain, tasks, _ = setup(plugins, "pretrain", {"use_query": False}, 1)
    w0 = session.model.networks["point"].w.detach().clone()
    pretrain.step(tasks, 0)
    c = tasks[0].support["c"][0]
    torch.testing.assert_close(session.model.networks["point"].w.detach(), c + (1 - ALPHA) ** T * (w0 - c))

"""The tests a plugin author writes: metaframe's contract checks plus one closed form of their own.

Run them with the package installed (``pip install -e ".[test]"``, then ``pytest tests``).
"""

from __future__ import annotations

import torch
from metaframe_momentum import plugin

from metaframe.api import snapshot
from metaframe.testing import Plugins, check_algorithm, load_plugins, options_for_tests, small_settings


def momentum_plugins() -> Plugins:
    """The installed plugins; this one is added by hand when it runs from a checkout, not installed."""
    plugins = load_plugins()
    if "reptile-momentum" in plugins.algorithms:
        return plugins
    return load_plugins(extra=[("momentum", plugin)])


def sine_and_mlp(plugins: Plugins, k: int = 5):
    """metaframe's sine toy: a task sampler and a freshly seeded MLP for it."""
    sampler = plugins.tasks.get("sine").build({}, k=k)
    torch.manual_seed(0)
    return sampler, plugins.models.get("mlp").build({}, sampler.info)


def test_contract():
    plugins = momentum_plugins()
    entry = plugins.algorithms.get("reptile-momentum")
    sampler, model = sine_and_mlp(plugins)
    algorithm = entry.build(options_for_tests(entry), model, small_settings(k=5))
    generator = torch.Generator().manual_seed(0)
    logs = check_algorithm(algorithm, model, [sampler.sample(generator) for _ in range(2)])
    assert logs["distance"] > 0


def test_without_momentum_it_is_reptile_with_a_constant_epsilon():
    plugins = momentum_plugins()
    runs = {
        "reptile-momentum": {"epsilon": 0.5, "momentum": 0},
        "reptile": {"epsilon": 0.5, "epsilon_schedule": "constant"},
    }
    weights = {}
    for name, options in runs.items():
        sampler, model = sine_and_mlp(plugins)
        algorithm = plugins.algorithms.get(name).build(options, model, small_settings(k=5))
        generator = torch.Generator().manual_seed(1)
        for iteration in range(3):
            algorithm.step([sampler.sample(generator) for _ in range(2)], iteration)
        weights[name] = snapshot(model.networks)
    for key, value in weights["reptile"].items():
        torch.testing.assert_close(weights["reptile-momentum"][key], value)

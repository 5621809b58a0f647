"""Contract tests over every registered algorithm, model and task: new plugins get them for free.

A factory may carry ``test_options`` (its smallest configuration); models are paired with every
registered task whose ``info`` they accept.
"""

import pytest
import torch

from metaframe.errors import UsageError
from metaframe.plugins import load_plugins
from metaframe.session import check_requirements
from metaframe.testing import check_algorithm, check_model, check_sampler, options_for_tests, small_settings
from tests.plugins import quadratic

PLUGINS = load_plugins(extra=[("quadratic", quadratic)])
K = 2


def sampler(name):
    factory = PLUGINS.tasks.get(name).factory
    return factory(options_for_tests(factory), k=K)


def model_for(model_name, task_name):
    """A model built for a task, or None when the model refuses that task's info."""
    factory = PLUGINS.models.get(model_name).factory
    try:
        torch.manual_seed(0)
        return factory(options_for_tests(factory), sampler(task_name).info)
    except UsageError:
        return None


PAIRS = [(m, t) for m in PLUGINS.models.names() for t in PLUGINS.tasks.names() if model_for(m, t) is not None]


def test_every_model_has_a_task():
    assert {m for m, _ in PAIRS} == set(PLUGINS.models.names())


@pytest.mark.parametrize("name", PLUGINS.tasks.names())
def test_task_contract(name):
    check_sampler(sampler(name), K)


@pytest.mark.parametrize("model_name, task_name", PAIRS)
def test_model_contract(model_name, task_name):
    task = sampler(task_name).sample(torch.Generator().manual_seed(0))
    check_model(model_for(model_name, task_name), task)


@pytest.mark.parametrize("algorithm_name", PLUGINS.algorithms.names())
@pytest.mark.parametrize("model_name, task_name", PAIRS)
def test_algorithm_contract(algorithm_name, model_name, task_name):
    model = model_for(model_name, task_name)
    factory = PLUGINS.algorithms.get(algorithm_name).factory
    requires = frozenset(getattr(factory, "requires", ()))
    if not requires <= model.capabilities:
        with pytest.raises(UsageError, match=f"algorithm '{algorithm_name}'.*model '{model_name}'"):
            check_requirements(algorithm_name, requires, model_name, model.capabilities)
        return
    algorithm = factory(options_for_tests(factory), model, small_settings(k=K))
    tasks_sampler = sampler(task_name)
    generator = torch.Generator().manual_seed(1)
    check_algorithm(algorithm, model, [tasks_sampler.sample(generator) for _ in range(2)])

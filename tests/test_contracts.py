"""Contract tests over every registered algorithm, model, task, preset and experiment: new plugins get
them for free.

Each entry may declare ``test_options`` (its smallest configuration) when it is registered; models are
paired with every registered task whose ``info`` they accept and whose batch keys they can read. A
preset's and an experiment's option tables are parsed against the options their plugins declare.
"""

import pytest
import torch

from metaframe.batch_contract import check_batch_keys
from metaframe.build import check_requirements
from metaframe.config import parse_options
from metaframe.errors import UsageError
from metaframe.plugins import load_plugins
from metaframe.testing import (
    check_algorithm,
    check_experiment,
    check_model,
    check_preset,
    check_sampler,
    options_for_tests,
    small_settings,
)
from tests.plugins import keyed, quadratic

PLUGINS = load_plugins(extra=[("quadratic", quadratic), ("keyed", keyed)])
K = 2


def sampler(name):
    entry = PLUGINS.tasks.get(name)
    return entry.build(options_for_tests(entry), k=K)


def model_for(model_name, task_name):
    """A model built for a task, or None when the model refuses that task's info."""
    entry, task = PLUGINS.models.get(model_name), sampler(task_name)
    try:
        torch.manual_seed(0)
        model = entry.build(options_for_tests(entry), task.info)
        check_batch_keys(task_name, task.batch_keys, model_name, model.needs_keys)
    except UsageError:
        return None
    return model


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
    entry = PLUGINS.algorithms.get(algorithm_name)
    if not entry.requires <= model.capabilities:
        with pytest.raises(UsageError, match=f"algorithm '{algorithm_name}'.*model '{model_name}'"):
            check_requirements(algorithm_name, entry.requires, model_name, model.capabilities)
        return
    algorithm = entry.build(options_for_tests(entry), model, small_settings(k=K))
    tasks_sampler = sampler(task_name)
    generator = torch.Generator().manual_seed(1)
    check_algorithm(algorithm, model, [tasks_sampler.sample(generator) for _ in range(2)])


ENTRIES = [(kind, entry) for kind in ("algorithm", "model", "task") for entry in getattr(PLUGINS, f"{kind}s")]


@pytest.mark.parametrize("kind, entry", ENTRIES, ids=[f"{kind}-{entry.name}" for kind, entry in ENTRIES])
def test_declared_test_options_are_options_of_the_declared_table(kind, entry):
    if entry.options is None:
        assert not entry.test_options, f"{entry.name} declares test_options without its options dataclass"
        return
    parse_options(entry.options, dict(entry.test_options), kind)  # a stale key or value raises UsageError


@pytest.mark.parametrize("name", PLUGINS.presets.names())
def test_preset_contract(name):
    check_preset(PLUGINS, name)


@pytest.mark.parametrize("name", PLUGINS.experiments.names())
def test_experiment_contract(name):
    """Every scale's sweeps; the plan at ``tiny`` where an experiment has it (a scale for tests), else at
    its default scale: planning draws the held-out tasks, which at the other scales means rendering them."""
    scales = PLUGINS.experiments.get(name).factory().scales
    check_experiment(PLUGINS, name, ["tiny"] if "tiny" in scales else scales[:1])


@pytest.mark.parametrize("name", PLUGINS.references.names())
def test_reference_contract(name):
    """A registered reference predicts the query images of every task it can read (their shape, finite
    values) and refuses the others with a UsageError, never another exception."""
    reference = PLUGINS.references.get(name).factory
    readable = 0
    for task_name in PLUGINS.tasks.names():
        task = sampler(task_name).sample(torch.Generator().manual_seed(0))
        try:
            predicted = reference(task.support, task.query)
        except UsageError:
            continue
        readable += 1
        assert predicted.shape == task.query["image"].shape and torch.isfinite(predicted).all()
    assert readable, f"reference {name!r} reads no registered task"

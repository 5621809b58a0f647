"""Hook specifications: the only ways a plugin extends metaframe.

A plugin is a module (or object) exposing functions decorated with :data:`hookimpl` and named after the
specs below, and registered under the ``metaframe`` entry-point group. metaframe's own algorithms,
models and tasks arrive exactly this way.

Each ``register`` callback is a :class:`Register` (:class:`metaframe.registry.Registrar`, where its
signature and arguments are written): ``register(name, factory, summary=None, *, requires=None,
options=None, test_options=None, weights_option=None)``. What each kind's factory is called with is its protocol in
:mod:`metaframe.factories`; the engine parses the option table as the ``options`` dataclass and passes
the instance.
"""

from __future__ import annotations

from typing import Any

import pluggy

from metaframe.config import Preset
from metaframe.factories import AlgorithmFactory, ExperimentFactory, ModelFactory, ReferenceFactory, TaskFactory
from metaframe.registry import Registrar

hookspec = pluggy.HookspecMarker("metaframe")
hookimpl = pluggy.HookimplMarker("metaframe")

Register = Registrar
"""The type of every ``register`` callback (``Register[ModelFactory]`` for the models' one)."""


@hookspec
def register_algorithms(register: Register[AlgorithmFactory]) -> None:
    """Register outer algorithms.

    :param register: call ``register(name, factory, summary=None, *, requires=..., options=...,
        test_options=...)`` (``requires``: :class:`metaframe.protocols.Capability` values);
        ``factory(options, model, settings)`` returns a :class:`metaframe.protocols.OuterAlgorithm`
        (:class:`metaframe.factories.AlgorithmFactory`).
        ``options`` is the ``[algorithm]`` table / ``--set algorithm.KEY=VALUE``, parsed as the ``options``
        dataclass; ``settings`` the run's :class:`metaframe.config.Settings`.
    """


@hookspec
def register_models(register: Register[ModelFactory]) -> None:
    """Register task models.

    :param register: call ``register(name, factory, summary=None, *, options=..., test_options=...,
        weights_option=...)``; ``factory(options, task_info)`` returns a :class:`metaframe.protocols.TaskModel`
        (:class:`metaframe.factories.ModelFactory`). ``options`` is the ``[model]`` table parsed as the
        ``options`` dataclass; ``task_info`` the sampler's ``info`` dict. ``weights_option`` names the
        option that loads initial weights (:attr:`metaframe.registry.Entry.weights_option`).
    """


@hookspec
def register_tasks(register: Register[TaskFactory]) -> None:
    """Register task samplers.

    :param register: call ``register(name, factory, summary=None, *, options=..., test_options=...)``;
        ``factory(options, k=K)`` returns a :class:`metaframe.protocols.TaskSampler` whose support sets
        hold ``K`` examples (:class:`metaframe.factories.TaskFactory`). ``options`` is the ``[task]`` table
        parsed as the ``options`` dataclass.
    """


@hookspec
def register_presets(register: Register[Preset]) -> None:
    """Register named run configurations (a model on a task with the settings it was made for).

    :param register: call ``register(name, preset, summary=None)`` with a
        :class:`metaframe.config.Preset`. A preset whose algorithm, model and task all match a run's is
        applied to that run automatically unless another preset is named. A malformed preset (not a
        ``Preset``, settings that are not engine settings, an unknown option table) fails the plugin when
        it registers; its names and option tables are checked against what is installed when it is used.
    """


@hookspec
def register_experiments(register: Register[ExperimentFactory]) -> None:
    """Register experiments that ``metaframe reproduce NAME`` runs (e.g. a paper's whole evaluation).

    :param register: call ``register(name, factory, summary=None)``; ``factory()`` returns a
        :class:`metaframe.experiment.Experiment`: its scales, the stages a request needs (trainings,
        evaluations, renders) and the report it writes from their results (docs/reference/experiments.md).
    """


@hookspec
def register_references(register: Register[ReferenceFactory]) -> None:
    """Register predictors that learn nothing, the rows ``metaframe eval --init NAME`` reads learned scores against.

    :param register: call ``register(name, factory, summary=None)``; ``factory(support, query)`` returns
        predictions of the query examples from the support examples alone (shaped like what the model
        predicts), scored with the model's own ``score_predictions`` (capability ``predictions``). It raises
        :class:`metaframe.errors.UsageError` for batches it cannot read. The engine has none of its own.
    """


@hookspec
def register_commands(cli: Any) -> None:
    """Add commands to the ``metaframe`` command line.

    :param cli: the root :class:`typer.Typer` application; add commands with ``cli.command()(fn)``.
    """

"""Hook specifications: the only ways a plugin extends metaframe.

A plugin is a module (or object) exposing functions decorated with :data:`hookimpl` and named after the
specs below, and registered under the ``metaframe`` entry-point group. metaframe's own algorithms,
models and tasks arrive exactly this way.

Each ``register`` callback is a :class:`Register`: ``register(name, factory, summary=None, *,
requires=None, options=None, test_options=None)``; ``summary`` defaults to the first line of the
factory's docstring. Names are lower-case words joined by ``-`` or ``_``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import pluggy

hookspec = pluggy.HookspecMarker("metaframe")
hookimpl = pluggy.HookimplMarker("metaframe")


class Register(Protocol):
    """The ``register`` callback every ``register_*`` hook receives; each call becomes one frozen
    :class:`metaframe.registry.Entry`.

    :param name: lower-case words joined by ``-`` or ``_``, unique per kind across all plugins.
    :param factory: what builds the thing (for presets: the :class:`metaframe.config.Preset`).
    :param summary: one line for ``metaframe plugins``; default: the first line of the factory's docstring.
    :param requires: (algorithms only) model capabilities needed, checked before anything is built.
    :param options: (algorithms, models, tasks) the options dataclass the factory parses.
    :param test_options: (algorithms, models, tasks) the smallest options, used by the contract tests.
    """

    def __call__(
        self,
        name: str,
        factory: Any,
        summary: str | None = None,
        *,
        requires: Iterable[str] | None = None,
        options: type | None = None,
        test_options: Mapping[str, Any] | None = None,
    ) -> None: ...


@hookspec
def register_algorithms(register: Register) -> None:
    """Register outer algorithms.

    :param register: call ``register(name, factory, summary=None, *, requires=..., options=...,
        test_options=...)``; ``factory(options, model, settings)`` returns a
        :class:`metaframe.protocols.OuterAlgorithm`. ``options`` is the dict given under ``[algorithm]`` /
        ``--set algorithm.KEY=VALUE``; ``settings`` the run's :class:`metaframe.config.RunSettings`.
    """


@hookspec
def register_models(register: Register) -> None:
    """Register task models.

    :param register: call ``register(name, factory, summary=None, *, options=..., test_options=...)``;
        ``factory(options, task_info)`` returns a :class:`metaframe.protocols.TaskModel`. ``task_info`` is
        the sampler's ``info`` dict.
    """


@hookspec
def register_tasks(register: Register) -> None:
    """Register task samplers.

    :param register: call ``register(name, factory, summary=None, *, options=..., test_options=...)``;
        ``factory(options, k=K)`` returns a :class:`metaframe.protocols.TaskSampler` whose support sets
        hold ``K`` examples.
    """


@hookspec
def register_presets(register: Register) -> None:
    """Register named run configurations (a model on a task with the settings it was made for).

    :param register: call ``register(name, preset, summary=None)`` with a
        :class:`metaframe.config.Preset`. A preset whose algorithm, model and task all match a run's is
        applied to that run automatically unless another preset is named. A malformed preset (not a
        ``Preset``, settings that are not engine settings, an unknown option table) fails the plugin when
        it registers; its names and option tables are checked against what is installed when it is used.
    """


@hookspec
def register_experiments(register: Register) -> None:
    """Register experiments that ``metaframe reproduce NAME`` runs (e.g. a paper's whole evaluation).

    :param register: call ``register(name, factory, summary=None)``; ``factory()`` returns a
        :class:`metaframe.experiment.Experiment`: its scales, the stages a request needs (trainings,
        evaluations, renders) and the report it writes from their results (docs/reference/experiments.md).
    """


@hookspec
def register_references(register: Register) -> None:
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

"""The call shapes of what plugins register: one typed factory protocol per registry kind.

The engine parses a registration's options (``register(..., options=SomeOptions)``) from the run's option
table before it calls the factory (:meth:`metaframe.registry.Entry.build`), so every factory receives an
instance of its own options dataclass (:class:`metaframe.config.NoOptions` when it declares none), never
a dict. What the engine then reads from the built thing is declared on its contract in
:mod:`metaframe.protocols`.
"""

from __future__ import annotations

from typing import Any, Protocol

from torch import Tensor

from metaframe.config import Settings
from metaframe.experiment import Experiment
from metaframe.protocols import Batch, OuterAlgorithm, TaskModel, TaskSampler


class AlgorithmFactory(Protocol):
    """``factory(options, model, settings)``: an outer algorithm for ``model`` (``register_algorithms``).

    :param options: the ``[algorithm]`` table (``--set algorithm.KEY=VALUE``), parsed as the registered
        options dataclass.
    :param model: the model it meta-trains, already built and checked against ``requires``.
    :param settings: the run's settings (K, T, meta-batch, schedule, seed ...).
    """

    def __call__(self, options: Any, model: TaskModel, settings: Settings, /) -> OuterAlgorithm: ...


class ModelFactory(Protocol):
    """``factory(options, task_info)``: a model shaped for the task (``register_models``).

    :param options: the ``[model]`` table, parsed as the registered options dataclass.
    :param task_info: the sampler's :attr:`~metaframe.protocols.TaskSampler.info`; raise
        :class:`metaframe.errors.UsageError` when it lacks what the model needs.
    """

    def __call__(self, options: Any, task_info: dict[str, Any], /) -> TaskModel: ...


class TaskFactory(Protocol):
    """``factory(options, k=K)``: a task sampler whose support sets hold ``k`` examples (``register_tasks``).

    :param options: the ``[task]`` table, parsed as the registered options dataclass.
    :param k: the number of support examples per task.
    """

    def __call__(self, options: Any, /, *, k: int) -> TaskSampler: ...


class ReferenceFactory(Protocol):
    """``factory(support, query)``: predictions of the query examples from the support examples alone,
    shaped like what the model predicts (``register_references``); it takes no options."""

    def __call__(self, support: Batch, query: Batch, /) -> Tensor: ...


class ExperimentFactory(Protocol):
    """``factory()``: the experiment ``metaframe reproduce NAME`` runs (``register_experiments``)."""

    def __call__(self) -> Experiment: ...

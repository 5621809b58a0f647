"""Predictors that learn nothing: the reference rows every learned score is read against.

A learned model is only useful if it beats what copying the support set gives. References are
registered by the plugins that understand the batches (the ``register_references`` hook), and
``eval --init NAME`` scores one with the model's own metrics (:meth:`~metaframe.protocols.TaskModel.score_predictions`,
capability :attr:`~metaframe.protocols.Capability.PREDICTIONS`), without personalization. The engine reads no batch key.
"""

from __future__ import annotations

from metaframe.errors import UsageError
from metaframe.factories import ReferenceFactory
from metaframe.plugins import Plugins, get_plugins
from metaframe.protocols import Batch, Capability, TaskModel

Reference = ReferenceFactory
"""``reference(support, query)``: predictions of the query examples from the support examples alone
(a reference takes no options, so the registered factory is the predictor itself)."""


def references(plugins: Plugins) -> dict[str, Reference]:
    """Every registered reference by name, in the order the plugins registered them."""
    return {entry.name: entry.factory for entry in plugins.references}


def reference(name: str, plugins: Plugins | None = None) -> Reference:
    """The registered reference ``name``, for a plugin's command that draws what it predicts beside a
    learned model's output; an unknown name is a :class:`UsageError` suggesting close ones."""
    return (plugins or get_plugins()).references.get(name).factory


def check_reference(name: str, model_name: str, model: TaskModel, batch: Batch, plugins: Plugins) -> Reference:
    """The reference ``name``, after checking that it reads this task's batches (it refuses, with a
    :class:`UsageError`, those it cannot) and that the model scores predictions made elsewhere."""
    reference = references(plugins)[name]
    reference(batch, {key: value[:1] for key, value in batch.items()})  # refuses unreadable batches before any work
    if Capability.PREDICTIONS not in model.capabilities:
        raise UsageError(
            f"--init {name} needs a model that scores predictions made elsewhere "
            f"(capability '{Capability.PREDICTIONS}'); "
            f"model {model_name!r} does not declare it"
        )
    return reference

"""A model does what it declares: each capability it names is backed by the method that performs it.

Checked when a model is built (before step 0, :func:`metaframe.session.build_session`) and by
:func:`metaframe.testing.check_model` in a plugin's own tests, so that a model declaring what it cannot
do is refused up front with one line, not with ``NotImplementedError`` deep inside a run.
"""

from __future__ import annotations

from metaframe.errors import UsageError
from metaframe.protocols import FUNCTIONAL, PREDICTIONS, RENDER, SAMPLES, TaskModel

PERFORMED_BY = {
    FUNCTIONAL: "functional_loss",
    SAMPLES: "render_samples",
    PREDICTIONS: "score_predictions",
    RENDER: "render",
}
"""Each capability with the :class:`TaskModel` method that performs it."""


def defines(model: TaskModel, method: str) -> bool:
    """Whether the model's class defines ``method`` itself rather than inheriting :class:`TaskModel`'s."""
    return getattr(type(model), method) is not getattr(TaskModel, method)


def turn_takers(model: TaskModel) -> list[str]:
    """The networks the model adapts outside its :attr:`~TaskModel.functional_networks`: they take turns
    on losses of their own (a GAN's discriminator), so the default functional inner step cannot run them."""
    return [name for name in model.inner_optimizers() if name not in model.functional_networks]


def capability_errors(model: TaskModel) -> list[str]:
    """What the model declares but cannot do, one sentence each (none for a sound model)."""
    errors = []
    for capability in sorted(set(model.capabilities) & set(PERFORMED_BY)):
        method = PERFORMED_BY[capability]
        if not defines(model, method):
            errors.append(f"declares the capability '{capability}' but does not define {method}")
    if RENDER in model.capabilities and not model.predicts:
        errors.append("declares 'render' but names no predicts (the batch key render predicts)")
    if FUNCTIONAL in model.capabilities and not defines(model, "functional_inner_step"):
        if not model.functional_networks:
            errors.append("declares 'functional' but names no functional_networks")
        elif takers := turn_takers(model):
            errors.append(
                f"declares 'functional' and adapts {', '.join(takers)} outside its functional_networks: networks "
                "that take turns on losses of their own need a functional_inner_step"
            )
    return errors


def check_declared(name: str, model: TaskModel) -> None:
    """Refuse, naming the model, a model that declares a capability it cannot perform."""
    errors = capability_errors(model)
    if errors:
        raise UsageError(f"model {name!r} {errors[0]}; define it or leave the capability out")

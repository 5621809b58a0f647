"""A model or task does what it declares, and declares what it does: each capability it names is backed
by the method that performs it, and each such method it writes is named by a capability.

Checked when a model and a task are built (before step 0, :func:`metaframe.build.build_setup`) and by
:func:`metaframe.testing.check_model` / :func:`~metaframe.testing.check_sampler` in a plugin's own tests,
so that a class whose declaration and methods disagree is refused up front with one line, not with
``NotImplementedError`` deep inside a run, nor with a method the engine silently never calls.
"""

from __future__ import annotations

from metaframe.errors import UsageError
from metaframe.protocols import FUNCTIONAL, PREDICTIONS, RENDER, SAMPLES, SHOW, TaskModel, TaskSampler

PERFORMED_BY = {
    FUNCTIONAL: "functional_loss",
    SAMPLES: "render_samples",
    PREDICTIONS: "score_predictions",
    RENDER: "render",
}
"""Each model capability with the :class:`TaskModel` method that performs it."""

TASK_PERFORMED_BY = {SHOW: "show"}
"""Each task capability with the :class:`TaskSampler` method that performs it."""


def defines(model: TaskModel | TaskSampler, method: str) -> bool:
    """Whether the object's class defines ``method`` itself rather than inheriting the base contract's."""
    base = TaskModel if isinstance(model, TaskModel) else TaskSampler
    return getattr(type(model), method) is not getattr(base, method)


def undeclared(thing: TaskModel | TaskSampler, performed_by: dict[str, str]) -> list[str]:
    """Capability methods a class in the object's lineage writes without declaring the capability there.

    Judged class by class: a subclass may drop a capability its base declares (a test model without
    ``functional``), since the engine then never calls the inherited method; a class that writes the
    method itself must say so in its own ``capabilities``."""
    errors = []
    for capability, method in sorted(performed_by.items()):
        for cls in type(thing).__mro__:
            if (
                method in vars(cls)
                and cls not in (TaskModel, TaskSampler)
                and capability not in getattr(cls, "capabilities", ())
            ):
                errors.append(
                    f"defines {method} but does not declare the capability '{capability}'; "
                    f"declare it or remove the method"
                )
                break
    return errors


def unperformed(thing: TaskModel | TaskSampler, performed_by: dict[str, str]) -> list[str]:
    """Capabilities the object declares without defining the method that performs them."""
    return [
        f"declares the capability '{capability}' but does not define {performed_by[capability]}; "
        "define it or leave the capability out"
        for capability in sorted(set(thing.capabilities) & set(performed_by))
        if not defines(thing, performed_by[capability])
    ]


def turn_takers(model: TaskModel) -> list[str]:
    """The networks the model adapts outside its :attr:`~TaskModel.functional_networks`: they take turns
    on losses of their own (a GAN's discriminator), so the default functional inner step cannot run them."""
    return [name for name in model.inner_optimizers() if name not in model.functional_networks]


def capability_errors(model: TaskModel) -> list[str]:
    """What the model declares but cannot do, or does without declaring, one sentence each (none for a
    sound model)."""
    errors = unperformed(model, PERFORMED_BY) + undeclared(model, PERFORMED_BY)
    fix = "; define it or leave the capability out"
    if RENDER in model.capabilities and not model.predicts:
        errors.append(f"declares 'render' but names no predicts (the batch key render predicts){fix}")
    if FUNCTIONAL in model.capabilities and not defines(model, "functional_inner_step"):
        if not model.functional_networks:
            errors.append(f"declares 'functional' but names no functional_networks{fix}")
        elif takers := turn_takers(model):
            errors.append(
                f"declares 'functional' and adapts {', '.join(takers)} outside its functional_networks: networks "
                f"that take turns on losses of their own need a functional_inner_step{fix}"
            )
    return errors


def task_capability_errors(sampler: TaskSampler) -> list[str]:
    """What the task declares but cannot do, or does without declaring (none for a sound task)."""
    return unperformed(sampler, TASK_PERFORMED_BY) + undeclared(sampler, TASK_PERFORMED_BY)


def check_declared(name: str, model: TaskModel) -> None:
    """Refuse, naming the model, a model whose declared capabilities and methods disagree."""
    errors = capability_errors(model)
    if errors:
        raise UsageError(f"model {name!r} {errors[0]}")


def check_task_declared(name: str, sampler: TaskSampler) -> None:
    """Refuse, naming the task, a task whose declared capabilities and methods disagree."""
    errors = task_capability_errors(sampler)
    if errors:
        raise UsageError(f"task {name!r} {errors[0]}")

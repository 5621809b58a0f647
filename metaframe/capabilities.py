"""A model or task does what it declares, and declares what it does: each :class:`Capability` it names is
backed by the methods that perform it (``Capability.performed_by``), and each method of one of the
engine's own capabilities it writes is named by a capability.

Checked when a model and a task are built (before step 0, :func:`metaframe.build.build_setup`) and by
:func:`metaframe.testing.check_model` / :func:`~metaframe.testing.check_sampler` in a plugin's own tests,
so that a class whose declaration and methods disagree is refused up front with one line, not with
``NotImplementedError`` deep inside a run, nor with a method the engine silently never calls. A plain
string where a capability belongs (a plugin written before 0.2.0) is refused the same way, naming the
member to write instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from metaframe.errors import UsageError
from metaframe.protocols import ENGINE_CAPABILITIES, Capability, TaskModel, TaskSampler


def protocol_of(thing: TaskModel | TaskSampler) -> type:
    """The contract ``thing`` fulfils: :class:`TaskModel` or :class:`TaskSampler`."""
    return TaskModel if isinstance(thing, TaskModel) else TaskSampler


def defines(thing: TaskModel | TaskSampler, method: str) -> bool:
    """Whether the object's class defines ``method`` itself rather than inheriting the base contract's
    (or, for a method the contract does not have, at all)."""
    own = getattr(type(thing), method, None)
    return own is not None and own is not getattr(protocol_of(thing), method, None)


def not_capabilities(declared: Iterable[object], verb: str = "declares") -> list[str]:
    """One sentence (``VERB the capability ...``) for each entry of a ``capabilities`` or ``requires`` set
    that is not a :class:`Capability` (a string, as before 0.2.0), naming what to write instead."""
    engine = {capability.name for capability in ENGINE_CAPABILITIES}
    errors = []
    for entry in sorted(declared, key=repr):
        if isinstance(entry, Capability):
            continue
        if isinstance(entry, str) and entry in engine:
            fix = f"write Capability.{entry.upper()} from metaframe.api"
        else:  # a plugin's own, or something else entirely
            fix = "write the Capability its plugin defines, or Capability(name, performed_by) from metaframe.api"
        kind = "a string" if isinstance(entry, str) else f"an object of type {type(entry).__name__}"
        errors.append(f"{verb} the capability {entry!r} as {kind}; since 0.2.0 {fix}")
    return errors


def undeclared(thing: TaskModel | TaskSampler) -> list[str]:
    """Methods of the engine's capabilities that a class in the object's lineage writes without declaring
    the capability there.

    Judged class by class: a subclass may drop a capability its base declares (a test model without
    ``functional``), since the engine then never calls the inherited method; a class that writes the
    method itself must say so in its own ``capabilities``."""
    base = protocol_of(thing)
    errors = []
    for capability in sorted(c for c in ENGINE_CAPABILITIES if hasattr(base, c.performed_by[0])):
        for method in capability.performed_by:
            writers = [cls for cls in type(thing).__mro__ if method in vars(cls) and cls is not base]
            if any(capability not in getattr(cls, "capabilities", ()) for cls in writers):
                errors.append(
                    f"defines {method} but does not declare the capability '{capability}'; "
                    f"declare it or remove the method"
                )
    return errors


def unperformed(thing: TaskModel | TaskSampler) -> list[str]:
    """Capabilities the object declares without defining every method that performs them."""
    return [
        f"declares the capability '{capability}' but does not define {method}; define it or leave the capability out"
        for capability in sorted(thing.capabilities)
        for method in capability.performed_by
        if not defines(thing, method)
    ]


def turn_takers(model: TaskModel) -> list[str]:
    """The networks the model adapts outside its :attr:`~TaskModel.functional_networks`: they take turns
    on losses of their own (a GAN's discriminator), so the default functional inner step cannot run them."""
    return [name for name in model.inner_optimizers() if name not in model.functional_networks]


def capability_errors(model: TaskModel) -> list[str]:
    """What the model declares but cannot do, or does without declaring, one sentence each (none for a
    sound model)."""
    if strings := not_capabilities(model.capabilities):
        return strings
    errors = unperformed(model) + undeclared(model)
    fix = "; define it or leave the capability out"
    if Capability.RENDER in model.capabilities and not model.predicts:
        errors.append(f"declares 'render' but names no predicts (the batch key render predicts){fix}")
    if Capability.FUNCTIONAL in model.capabilities and not defines(model, "functional_inner_step"):
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
    return not_capabilities(sampler.capabilities) or unperformed(sampler) + undeclared(sampler)


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

"""The batch contract: a task's declared batch keys against a model's needs, and a batch against its
task's declaration.

The engine calls :func:`check_batch_keys` before step 0; :mod:`metaframe.testing` calls
:func:`batch_errors` so that a declaration that does not match the batches is caught by the tests.
"""

from __future__ import annotations

from metaframe.errors import UsageError
from metaframe.protocols import Batch, BatchKeys, Shape

FIX = "pick a model and a task made for each other"


def describe(shape: Shape | None) -> str:
    """``B×3×H×W``; ``any shape`` for None."""
    return "×".join(str(size) for size in shape) if shape is not None else "any shape"


def compatible(needed: Shape, given: Shape) -> bool:
    """Same number of dimensions, and the same size wherever both state a fixed one."""
    fixed = [(a, b) for a, b in zip(needed, given) if isinstance(a, int) and isinstance(b, int)]
    return len(needed) == len(given) and all(a == b for a, b in fixed)


def check_batch_keys(task: str, yields: BatchKeys | None, model: str, needs: BatchKeys | None) -> None:
    """Refuse, before step 0, a model that needs a batch key (or shape) its task does not yield.

    A side that declares nothing (None) is not checked, so plugins written before the contract work.
    """
    if yields is None or needs is None:
        return
    for key, shape in needs.items():
        if key not in yields:
            holds = ", ".join(sorted(yields)) or "nothing"
            raise UsageError(
                f"model {model!r} needs batch key {key!r}, which task {task!r} does not yield (its batches "
                f"hold {holds}); {FIX}"
            )
        given = yields[key]
        if shape is not None and given is not None and not compatible(shape, given):
            raise UsageError(
                f"model {model!r} needs batch key {key!r} shaped {describe(shape)}, but task {task!r} yields "
                f"it shaped {describe(given)}; {FIX}"
            )


def batch_errors(declared: BatchKeys, batch: Batch) -> list[str]:
    """How ``batch`` breaks ``declared``: missing or undeclared keys, a wrong number of dimensions, a
    fixed size that differs, or a named size (``"B"``, ``"H"``) that differs between two places."""
    errors = [f"declared key {key!r} is missing" for key in sorted(set(declared) - set(batch))]
    errors += [f"key {key!r} is not declared" for key in sorted(set(batch) - set(declared))]
    sizes: dict[str, int] = {}
    for key, shape in declared.items():
        if key in batch and shape is not None:
            errors += shape_errors(key, shape, tuple(batch[key].shape), sizes)
    return errors


def shape_errors(key: str, shape: Shape, actual: tuple[int, ...], sizes: dict[str, int]) -> list[str]:
    """How tensor ``key`` of shape ``actual`` breaks ``shape``; binds named sizes in ``sizes``."""
    if len(actual) != len(shape):
        return [f"{key!r} has shape {actual}, declared {describe(shape)}"]
    errors = []
    for dim, size in zip(shape, actual):
        if isinstance(dim, int) and size != dim:
            errors.append(f"{key!r} has shape {actual}, declared {describe(shape)}")
        elif isinstance(dim, str) and sizes.setdefault(dim, size) != size:
            errors.append(f"{key!r} has {dim} = {size}, but {dim} = {sizes[dim]} elsewhere in the batch")
    return errors

"""Checkpoints: safetensors for weights, JSON for everything else, every write atomic.

A write goes to a temporary file beside its destination and is renamed over it, so a crash never
leaves a half-written file behind. Resume state (outer optimizer, iteration) is a torch file read back
with ``weights_only=True``: nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import Tensor

from metaframe.errors import UsageError
from metaframe.faults import crash_point
from metaframe.params import State, restore, snapshot
from metaframe.protocols import TaskModel


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``path``, flush it to disk, then rename it to
    ``path``: at any instant ``path`` is the old file or the new one, never a part of either."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(Path(tmp))
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes the file private; a normal file is not
        crash_point(f"write:{path.name}")
        os.replace(tmp, path)
        crash_point(f"wrote:{path.name}")
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: Path, data: Any) -> None:
    """Atomically write ``data`` as indented JSON."""
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=str) + "\n"))


def weights_state(model: TaskModel) -> State:
    """Every network's parameters and buffers on the CPU (keys prefixed by network name)."""
    return {key: value.detach().cpu().contiguous() for key, value in snapshot(model.networks).items()}


def write_weights(path: Path, state: State, metadata: dict[str, str] | None = None) -> None:
    """Atomically write ``state`` (from :func:`weights_state`) as safetensors."""
    atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata=metadata))


def save_weights(path: Path, model: TaskModel, metadata: dict[str, str] | None = None) -> None:
    """Write every network's parameters and buffers to ``path`` (keys prefixed by network name)."""
    write_weights(path, weights_state(model), metadata)


def first_non_finite(state: Mapping[str, Tensor]) -> str | None:
    """The name of the first floating-point tensor holding a NaN or an infinity, else None."""
    for key, value in state.items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            return key
    return None


def load_weights(path: Path) -> State:
    """Read a weights file; a missing or corrupt file is a UsageError."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no weights at {path}; give a run folder with model.safetensors or a .safetensors file")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise UsageError(f"cannot read weights {path}: {error}") from None


ALGORITHM_PREFIX = "algorithm."  # keys of an algorithm's meta-learned tensors in model.safetensors


def split_algorithm_tensors(state: State) -> tuple[State, State]:
    """The model's tensors and the algorithm's (``algorithm.NAME`` → ``NAME``) of one weights file."""
    model = {k: v for k, v in state.items() if not k.startswith(ALGORITHM_PREFIX)}
    algorithm = {k.removeprefix(ALGORITHM_PREFIX): v for k, v in state.items() if k.startswith(ALGORITHM_PREFIX)}
    return model, algorithm


def weights_metadata(path: Path) -> dict[str, str]:
    """A safetensors file's metadata (empty when there is none or the file cannot be read: it is only a
    hint, and a bad file fails with its own error when it is loaded)."""
    try:
        with safe_open(str(path), "pt") as handle:
            return dict(handle.metadata() or {})
    except Exception:  # noqa: BLE001
        return {}


def check_tensors(expected: Mapping[str, Tensor], given: Mapping[str, Tensor], source: str, hint: str) -> None:
    """Raise a UsageError naming the first tensor that ``given`` lacks, adds or shapes differently.

    :param source: where ``given`` came from (a file name), for the message.
    :param hint: what the user can do about it, appended to the message.
    """
    for key, value in expected.items():
        if key not in given:
            raise UsageError(f"{source} lacks tensor {key!r} {tuple(value.shape)}; {hint}")
        if tuple(given[key].shape) != tuple(value.shape):
            raise UsageError(
                f"{source}: tensor {key!r} has shape {tuple(given[key].shape)} but this model's is "
                f"{tuple(value.shape)}; {hint}"
            )
    extra = sorted(set(given) - set(expected))
    if extra:
        raise UsageError(
            f"{source} holds tensor {extra[0]!r} that this model does not have ({len(extra)} in all); {hint}"
        )


def check_compatible(model: TaskModel, state: State, source: str) -> None:
    """Check that ``state`` has exactly the names and shapes of ``model``'s networks."""
    check_tensors(
        snapshot(model.networks), state, source, "build the model with the options the weights were made with"
    )


def load_into(model: TaskModel, path: Path) -> State:
    """Load a weights file into ``model`` after checking every name and shape; returns the algorithm's
    tensors the file also holds (see :meth:`OuterAlgorithm.meta_tensors`)."""
    state, algorithm = split_algorithm_tensors(load_weights(path))
    check_compatible(model, state, str(path))
    broken = first_non_finite(state)
    if broken is not None:
        raise UsageError(
            f"{path}: tensor {broken!r} holds NaN or infinite values (weights of a run that diverged); "
            f"train again, e.g. with a lower learning rate"
        )
    restore(model.networks, state)
    return algorithm


def save_resume(path: Path, state: dict[str, Any]) -> None:
    """Atomically write resume state (tensors, numbers, strings, nested dicts and lists)."""
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_resume(path: Path) -> dict[str, Any]:
    """Read resume state with ``weights_only=True``."""
    if not Path(path).is_file():
        raise UsageError(f"nothing to resume: {path} does not exist (the run never saved a checkpoint)")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before it refuses a file
            warnings.simplefilter("ignore")
            return torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError:
        raise UsageError(
            f"{path} holds objects other than tensors, numbers and strings, and metaframe never unpickles "
            f"them; it is not metaframe's resume state: start a new run in another --out"
        ) from None
    except (RuntimeError, EOFError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UsageError(
            f"{path} cannot be read as resume state ({reason[:120]}); it is damaged or not metaframe's: "
            f"start a new run in another --out"
        ) from None

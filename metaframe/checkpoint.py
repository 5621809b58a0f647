"""Checkpoints: safetensors for weights, JSON for everything else, every write atomic.

A write goes to a temporary file beside its destination and is renamed over it, so a crash never
leaves a half-written file behind. Resume state (outer optimizer, iteration) is a torch file read back
with ``weights_only=True``: nothing is ever unpickled.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor

from metaframe.errors import UsageError
from metaframe.params import State, restore, snapshot
from metaframe.protocols import TaskModel


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes the file private; a normal file is not
        os.replace(tmp, path)
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


def save_weights(path: Path, model: TaskModel, metadata: dict[str, str] | None = None) -> None:
    """Write every network's parameters and buffers to ``path`` (keys prefixed by network name)."""
    state = {key: value.detach().cpu().contiguous() for key, value in snapshot(model.networks).items()}
    atomic_write(path, lambda tmp: save_file(state, str(tmp), metadata=metadata))


def load_weights(path: Path) -> State:
    """Read a weights file; a missing or corrupt file is a UsageError."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no weights at {path}; give a run folder with model.safetensors or a .safetensors file")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError) as error:
        raise UsageError(f"cannot read weights {path}: {error}") from None


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


def load_into(model: TaskModel, path: Path) -> None:
    """Load a weights file into ``model`` after checking every name and shape."""
    state = load_weights(path)
    check_compatible(model, state, str(path))
    restore(model.networks, state)


def save_resume(path: Path, state: dict[str, Any]) -> None:
    """Atomically write resume state (tensors, numbers, strings, nested dicts and lists)."""
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def load_resume(path: Path) -> dict[str, Any]:
    """Read resume state with ``weights_only=True``."""
    if not Path(path).is_file():
        raise UsageError(f"nothing to resume: {path} does not exist (the run never saved a checkpoint)")
    return torch.load(path, weights_only=True, map_location="cpu")

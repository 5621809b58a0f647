"""A run folder: the one place a run writes files (so a distributed run can let rank 0 alone write).

::

    RUN_DIR/run.json            resolved configuration, provenance, status (running, finished, failed,
                                interrupted) and the reason a run ended early
    RUN_DIR/resume.pt           the checkpoint, one commit: iteration, weights, algorithm state and the
                                length of metrics.jsonl at that iteration (read with weights_only=True)
    RUN_DIR/model.safetensors   the checkpoint's weights for users, one key prefix per network
    RUN_DIR/metrics.jsonl       one JSON object per logged meta-iteration
    RUN_DIR/samples/*.png       pictures of the model's predictions, when it can draw them
    RUN_DIR/.lock               held (flock) by the process running in the folder

Every file is written atomically. ``resume.pt`` is written first and is the truth; ``model.safetensors``
is published from the same state right after it, and republished on resume, so a crash between the two
costs nothing. docs/reference/run-folders.md tells the whole story. In a distributed run only process 0
writes: the others get a :class:`ReadOnlyRunFolder` from :func:`folder_for_process`.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from metaframe import distributed
from metaframe.checkpoint import (
    ALGORITHM_PREFIX,
    atomic_write,
    load_resume,
    save_resume,
    weights_state,
    write_json,
    write_weights,
)
from metaframe.config import Config
from metaframe.errors import UsageError
from metaframe.faults import crash_point
from metaframe.params import State
from metaframe.protocols import OuterAlgorithm, TaskModel

RESUME_FORMAT = 2
NAME_MAX = 255  # bytes in one path component on the file systems metaframe runs on


def algorithm_tensors(algorithm: OuterAlgorithm) -> State:
    """The algorithm's meta-learned tensors, as ``model.safetensors`` holds them (``algorithm.NAME``)."""
    return {f"{ALGORITHM_PREFIX}{k}": v.detach().cpu().contiguous() for k, v in algorithm.meta_tensors().items()}


class RunFolder:
    """Files of one run.

    :attr writes: whether this process writes the folder (False in every process of a distributed run
        but the first).
    """

    writes = True

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.weights = self.path / "model.safetensors"
        self.record_file = self.path / "run.json"
        self.metrics = self.path / "metrics.jsonl"
        self.resume_state = self.path / "resume.pt"
        self.samples = self.path / "samples"
        self.lock_file = self.path / ".lock"
        self._lock: int | None = None
        self.about: dict[str, str] = {}  # metadata of model.safetensors besides the iteration

    def check_new(self) -> None:
        """A new run may be written here: the folder does not exist or is empty, and could be made.

        Called before anything is built, so a refused run leaves nothing behind.
        """
        if self.record_file.exists():
            raise UsageError(f"{self.path} already holds a run; pass --resume to continue it or choose another --out")
        if self.path.exists() and not self.path.is_dir():
            raise UsageError(f"--out {self.path} is a file, not a folder; choose another --out")
        if self.path.is_dir():
            present = sorted(p.name for p in self.path.iterdir())
            if present:
                shown = ", ".join(present[:3]) + (f" and {len(present) - 3} more" if len(present) > 3 else "")
                raise UsageError(
                    f"{self.path} holds files metaframe did not write ({shown}); choose another --out or empty it"
                )
            return
        long = next((part for part in self.path.parts if len(part.encode()) > NAME_MAX), None)
        if long is not None:
            raise UsageError(f"--out: the name {long[:40]}… is longer than {NAME_MAX} bytes; choose a shorter one")
        parent = next(p for p in self.path.absolute().parents if p.exists())
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise UsageError(f"cannot create run folder {self.path}: {parent} is not a writable folder")

    def create(self) -> None:
        """Make the folder and take its lock."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"cannot create run folder {self.path}: {error.strerror}") from None
        self.lock()

    def lock(self) -> None:
        """Hold ``.lock`` for the life of this process: a second run on the same folder is refused.

        The lock is the kernel's (flock), so it dies with the process that holds it: a killed run leaves
        no stale lock.
        """
        handle = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(handle, 32).decode(errors="replace").strip() or "?"
            os.close(handle)
            raise UsageError(
                f"another metaframe process (pid {holder}) is running in {self.path}; wait for it to end "
                f"or choose another --out"
            ) from None
        os.ftruncate(handle, 0)
        os.write(handle, str(os.getpid()).encode())
        self._lock = handle

    def unlock(self) -> None:
        """Let another process run here (a process that ends lets go by itself)."""
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def open_existing(self) -> None:
        """Lock the folder of a run to resume; it must hold a run."""
        if not self.record_file.is_file():
            raise UsageError(f"cannot resume: {self.path} holds no run (no run.json)")
        self.lock()
        for stale in self.path.glob(".*.tmp"):  # temporary files of a write that a crash cut short
            stale.unlink()

    def describe(self, config: Config) -> None:
        """Name, in ``model.safetensors``, the algorithm (and its options) that made the weights, so that
        the file alone tells ``eval`` how to personalize them."""
        self.about = {"algorithm": config.algorithm, "algorithm_options": json.dumps(config.options["algorithm"])}

    def stored_config(self) -> Config:
        """The run's configuration, from ``run.json``."""
        try:
            return Config.from_json(self.read_record()["config"])
        except (KeyError, TypeError, AttributeError) as error:
            raise UsageError(f"{self.record_file} is not a metaframe run record (bad configuration: {error})") from None

    def read_record(self) -> dict[str, Any]:
        """The ``run.json`` written when the run started; anything else is a UsageError."""
        try:
            record = json.loads(self.record_file.read_text())
        except FileNotFoundError:
            raise UsageError(f"{self.path} holds no run (no run.json)") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise UsageError(f"{self.record_file} is damaged ({error}); this run folder cannot be read") from None
        if not isinstance(record, dict) or not isinstance(record.get("config"), dict):
            raise UsageError(f"{self.record_file} is not a metaframe run record (no configuration in it)")
        return record

    def write_record(self, data: dict[str, Any]) -> None:
        """Write ``run.json`` atomically."""
        write_json(self.record_file, data)

    def log(self, record: dict[str, Any]) -> None:
        """Append one metrics line (flushed at once, so a crash loses nothing logged)."""
        with self.metrics.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        crash_point("logged")

    def metrics_size(self) -> int:
        """Bytes in ``metrics.jsonl`` now (0 before the first line)."""
        return self.metrics.stat().st_size if self.metrics.exists() else 0

    def truncate_metrics(self, size: int) -> tuple[int, bool]:
        """Cut ``metrics.jsonl`` back to its first ``size`` bytes (its length at the checkpoint).

        Returns how many lines were dropped and whether the last of them was cut short (a torn write).
        """
        data = self.metrics.read_bytes() if self.metrics.exists() else b""
        if len(data) < size:
            raise UsageError(
                f"{self.metrics} is shorter than when the checkpoint was written; it was changed by hand, "
                f"so this run cannot be resumed exactly"
            )
        tail = data[size:]
        if tail:
            atomic_write(self.metrics, lambda tmp: tmp.write_bytes(data[:size]))
        return len(tail.splitlines()), bool(tail) and not tail.endswith(b"\n")

    def checkpoint(self, model: TaskModel, algorithm: OuterAlgorithm, iteration: int) -> None:
        """Commit the state after ``iteration`` meta-iterations: ``resume.pt`` in one atomic write, then the
        same weights as ``model.safetensors``.

        Torch's random state is not stored: every meta-iteration reseeds from (seed, iteration).
        """
        weights = {**weights_state(model), **algorithm_tensors(algorithm)}
        save_resume(
            self.resume_state,
            {
                "format": RESUME_FORMAT,
                "iteration": iteration,
                "weights": weights,
                "algorithm": algorithm.state_dict(),
                "metrics_bytes": self.metrics_size(),
            },
        )
        self.publish_weights(weights, iteration)

    def publish_weights(self, weights: State, iteration: int) -> None:
        """Write ``model.safetensors``, the weights users load, from a checkpoint's state."""
        write_weights(self.weights, weights, {**self.about, "iteration": str(iteration)})

    def load_checkpoint(self) -> dict[str, Any]:
        """The resume state written by :meth:`checkpoint`; a file of another format is a UsageError."""
        state = load_resume(self.resume_state)
        if not isinstance(state, dict) or state.get("format") != RESUME_FORMAT:
            found = state.get("format", 1) if isinstance(state, dict) else "?"
            raise UsageError(
                f"{self.resume_state} has format {found}, not {RESUME_FORMAT} (written by another metaframe "
                f"version); it cannot be resumed: start a new run in another --out"
            )
        return state

    def saved_iteration(self) -> int | None:
        """The iteration of the last checkpoint, or None before the first one. Read from the checkpoint
        itself: ``run.json`` is updated after it, so a stop in between would leave it one behind."""
        return self.load_checkpoint()["iteration"] if self.resume_state.exists() else None

    def save_picture(self, name: str, picture: torch.Tensor) -> Path:
        """Write a uint8 H×W×3 picture to ``samples/NAME.png``."""
        path = self.samples / f"{name}.png"
        array = np.ascontiguousarray(picture.detach().cpu().numpy())
        atomic_write(path, lambda tmp: Image.fromarray(array).save(tmp, format="PNG"))
        return path


class ReadOnlyRunFolder(RunFolder):
    """A run folder as every process of a distributed run but the first sees it: it reads what process 0
    writes and writes nothing (process 0 makes the checks that need the folder; its refusals reach the
    others through :func:`metaframe.distributed.together`)."""

    writes = False

    def check_new(self) -> None:
        """Process 0 checks the folder."""

    def create(self) -> None:
        """Process 0 makes the folder."""

    def lock(self) -> None:
        """Process 0 holds the lock for the whole run."""

    def open_existing(self) -> None:
        """The folder must hold a run; the lock and the clean-up are process 0's."""
        if not self.record_file.is_file():
            raise UsageError(f"cannot resume: {self.path} holds no run (no run.json)")

    def write_record(self, data: dict[str, Any]) -> None:
        """Process 0 writes ``run.json``."""

    def log(self, record: dict[str, Any]) -> None:
        """Process 0 logs."""

    def truncate_metrics(self, size: int) -> tuple[int, bool]:
        """Process 0 cuts the metrics back."""
        return 0, False

    def checkpoint(self, model: TaskModel, algorithm: OuterAlgorithm, iteration: int) -> None:
        """Process 0 writes checkpoints (its weights are the same)."""

    def publish_weights(self, weights: State, iteration: int) -> None:
        """Process 0 publishes the weights."""

    def save_picture(self, name: str, picture: torch.Tensor) -> Path:
        """Process 0 writes pictures."""
        return self.samples / f"{name}.png"


def weights_file(init: Path) -> Path:
    """A run folder's ``model.safetensors``, or ``init`` itself when it is a file."""
    return RunFolder(init).weights if init.is_dir() else init


def folder_for_process(path: Path) -> RunFolder:
    """The run folder at ``path`` as this process handles it: written by process 0 alone."""
    return RunFolder(path) if distributed.is_writer() else ReadOnlyRunFolder(path)

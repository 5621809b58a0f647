"""A run folder: the one place a run writes files (so a distributed run can let rank 0 alone write).

::

    RUN_DIR/model.safetensors   meta-learned weights, one key prefix per network
    RUN_DIR/run.json            resolved configuration and provenance
    RUN_DIR/metrics.jsonl       one JSON object per logged meta-iteration
    RUN_DIR/resume.pt           iteration and algorithm state (read with weights_only=True)
    RUN_DIR/samples/*.png       pictures of the model's predictions, when it can draw them
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from metaframe.checkpoint import atomic_write, load_resume, save_resume, save_weights, write_json
from metaframe.errors import UsageError
from metaframe.protocols import OuterAlgorithm, TaskModel


class RunDir:
    """Files of one run."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.weights = self.path / "model.safetensors"
        self.config = self.path / "run.json"
        self.metrics = self.path / "metrics.jsonl"
        self.resume_state = self.path / "resume.pt"
        self.samples = self.path / "samples"

    def create(self, resume: bool) -> None:
        """Make the folder; refuse to overwrite a finished or started run unless resuming."""
        if self.config.exists() and not resume:
            raise UsageError(f"{self.path} already holds a run; pass --resume to continue it or choose another --out")
        if resume and not self.config.exists():
            raise UsageError(f"cannot resume: {self.path} holds no run (no run.json)")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(f"cannot create run folder {self.path}: {error.strerror}") from None

    def read_config(self) -> dict[str, Any]:
        """The ``run.json`` written when the run started."""
        return json.loads(self.config.read_text())

    def write_config(self, data: dict[str, Any]) -> None:
        """Write ``run.json`` atomically."""
        write_json(self.config, data)

    def log(self, record: dict[str, Any]) -> None:
        """Append one metrics line (flushed at once, so a crash loses nothing logged)."""
        with self.metrics.open("a") as handle:
            handle.write(json.dumps(record) + "\n")

    def truncate_metrics(self, iteration: int) -> None:
        """Drop metrics lines at or after ``iteration`` (logged after the checkpoint we resume from)."""
        if not self.metrics.exists():
            return
        lines = [line for line in self.metrics.read_text().splitlines() if json.loads(line)["iteration"] < iteration]
        atomic_write(self.metrics, lambda tmp: tmp.write_text("".join(f"{line}\n" for line in lines)))

    def checkpoint(self, model: TaskModel, algorithm: OuterAlgorithm, iteration: int) -> None:
        """Save weights and resume state after ``iteration`` meta-iterations have completed."""
        save_weights(self.weights, model, {"iteration": str(iteration)})
        save_resume(self.resume_state, {"iteration": iteration, "algorithm": algorithm.state_dict()})

    def load_checkpoint(self) -> dict[str, Any]:
        """The resume state written by :meth:`checkpoint`."""
        return load_resume(self.resume_state)

    def save_picture(self, name: str, picture: torch.Tensor) -> Path:
        """Write a uint8 H×W×3 picture to ``samples/NAME.png``."""
        path = self.samples / f"{name}.png"
        array = np.ascontiguousarray(picture.detach().cpu().numpy())
        atomic_write(path, lambda tmp: Image.fromarray(array).save(tmp, format="PNG"))
        return path

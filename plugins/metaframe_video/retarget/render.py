"""Retargeting: personalize a model to a target person from K examples, then render a source's motion as them.

Nothing here knows what a pose or a person is. The task reads the target's examples and the source's
motion (capability :data:`~metaframe_video.retarget.contract.FOOTAGE`), the model draws a frame for each pose
(capability ``render``), and the algorithm that trained the model says how it is personalized
(``OuterAlgorithm.personalize``, as in ``eval``). This module times
the two stages and writes the MP4 — under a temporary name renamed when complete, so no partial file
is ever under its name — then a contact sheet and a JSON summary beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import Tensor

from metaframe.api import (
    Batch,
    Capability,
    Personalize,
    ProgressStage,
    TaskModel,
    TaskSampler,
    UsageError,
    atomic_write,
    batch_size,
    batch_to,
    to_uint8,
    write_json,
)
from metaframe_video.retarget.contract import FOOTAGE, Motion
from metaframe_video.videofile import VideoWriter

RENDER_CHUNK = 16  # frames drawn at once: bounds memory on long sources
SHEET_ROWS = 6
SHEET_TITLES = ("source", "pose", "result")
GAP, GAP_COLOUR, TITLE_HEIGHT = 2, 40, 14


@dataclass(frozen=True)
class Beside:
    """A predictor that learns nothing, drawn beside the result (a registered reference, e.g. ``warp``):
    its name titles its panel; it predicts each frame from the target's ``support`` alone."""

    name: str
    predict: Callable[[Batch, Batch], Tensor]
    support: Batch

    def frames(self, poses: Batch) -> np.ndarray:
        """What it draws for ``poses`` (uint8 B×H×W×3)."""
        with torch.no_grad():
            return to_uint8(self.predict(self.support, poses)).numpy()


@dataclass(frozen=True)
class RetargetPlan:
    """How to personalize (T ``steps`` on ``schedule``, torch seeded with ``seed``) and what to write (with
    ``beside``, a panel more: what it draws); ``on_progress(stage, done, total)`` is told the progress of
    ``personalize`` and ``render``."""

    steps: int
    schedule: str = "hold-then-decay"
    seed: int = 0
    side_by_side: bool = False
    show_progress: bool = True
    on_progress: Callable[[str, int, int], None] | None = None
    beside: Beside | None = None


def check_capabilities(model_name: str, model: TaskModel, task_name: str, sampler: TaskSampler) -> None:
    """Refuse, before any work, a model that cannot render frames for poses or a task that cannot read footage."""
    if Capability.RENDER not in model.capabilities:
        raise UsageError(
            f"model {model_name!r} does not render images from poses (capability '{Capability.RENDER}'), "
            "which retarget needs; give a run of a model that declares it"
        )
    if FOOTAGE not in sampler.capabilities:
        raise UsageError(
            f"task {task_name!r} cannot read a person from footage or photos (capability '{FOOTAGE}'), which "
            f"retarget needs; give a run of a task that declares it"
        )


def personalize_and_render(
    model: TaskModel,
    personalize: Personalize,
    support: Batch,
    motion: Motion,
    out: Path,
    plan: RetargetPlan,
    about: dict[str, Any] | None = None,
    target_pictures: Tensor | None = None,
) -> dict[str, Any]:
    """Personalize ``model`` on ``support``, render every frame of ``motion`` into ``out`` (MP4), then write
    ``out``'s contact sheet (``.png``), the ``target_pictures`` in a row (``-target.png``, when given) and
    the summary (``.json``, opening with ``about``); returns the summary."""
    personalization_seconds = personalize_timed(model, personalize, support, plan)
    rendered: list[Rendered] = []
    atomic_write(out, lambda tmp: rendered.append(render_video(tmp, model, motion, plan)))
    result = rendered[0]
    sheet = out.with_suffix(".png")
    titles = SHEET_TITLES + ((plan.beside.name,) if plan.beside else ())
    write_png(sheet, contact_sheet(result.sheet, titles))
    target_sheet = None
    if target_pictures is not None:
        target_sheet = out.with_name(f"{out.stem}-target.png")
        write_png(target_sheet, join_across(list(target_pictures.numpy())))
    summary = {
        **(about or {}),
        "output": str(out),
        "contact_sheet": str(sheet),
        "target_sheet": None if target_sheet is None else str(target_sheet),
        "frames": result.frames,
        "fps": round(motion.fps, 3),
        "width": result.width,
        "height": result.height,
        "side_by_side": plan.side_by_side,
        "beside": plan.beside.name if plan.beside else None,
        "k": batch_size(support),
        "t": plan.steps,
        "personalization_seconds": round(personalization_seconds, 3),
        **result.speeds(),
        **result.coherence(),
        **motion.report,
    }
    write_json(out.with_suffix(".json"), summary)
    return summary


def write_png(path: Path, picture: np.ndarray) -> None:
    """An H×W×3 uint8 picture as a PNG, whole or not at all."""
    atomic_write(path, lambda tmp: Image.fromarray(picture).save(tmp, format="PNG", optimize=True))


def personalize_timed(model: TaskModel, personalize: Personalize, support: Batch, plan: RetargetPlan) -> float:
    """Seconds to personalize ``model`` in place (seeded, so a retarget is repeatable), with a progress bar."""
    torch.manual_seed(plan.seed)
    support = batch_to(support, model.device)
    started = time.perf_counter()
    stage = ProgressStage("personalize", plan.steps, plan.show_progress, plan.on_progress)
    with stage, counting_steps(model, stage):
        personalize(model, support, plan.steps, plan.schedule)
    model.train(False)
    return time.perf_counter() - started


@contextmanager
def counting_steps(model: TaskModel, stage: ProgressStage) -> Iterator[None]:
    """Advance ``stage`` at each of ``model``'s inner steps: a personalization rule takes no callback, and
    the default one (``metaframe.api.adapt``) calls ``inner_step`` once per iteration."""
    inner = model.inner_step

    def step(batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, float]:
        logs = inner(batch, optimizers)
        stage.advance()
        return logs

    model.inner_step = step  # type: ignore[method-assign]
    try:
        yield
    finally:
        del model.inner_step  # the class's method again


@dataclass
class Rendered:
    """What rendering measured: frame count and size, timings, per-frame statistics, the sheet's rows."""

    frames: int = 0
    width: int = 0
    height: int = 0
    seconds: float = 0.0
    model_seconds: float = 0.0
    means: dict[str, list[float]] = field(default_factory=lambda: {"result": [], "source": []})
    changes: dict[str, list[float]] = field(default_factory=lambda: {"result": [], "source": []})
    last: dict[str, np.ndarray] = field(default_factory=dict)
    sheet: list[list[np.ndarray]] = field(default_factory=list)

    def measure(self, name: str, frames: np.ndarray) -> None:
        """Record each frame's mean intensity and its mean absolute change from the frame before (0–255)."""
        values = frames.astype(np.float32)
        self.means[name] += values.mean(axis=(1, 2, 3)).tolist()
        previous = np.concatenate([self.last[name][None], values[:-1]]) if name in self.last else values[:-1]
        current = values if name in self.last else values[1:]
        self.changes[name] += np.abs(current - previous).mean(axis=(1, 2, 3)).tolist()
        self.last[name] = values[-1]

    def speeds(self) -> dict[str, float]:
        """Rendering frames per second: the whole stage (poses, model, pictures, encoding) and the model alone."""
        return {
            "rendering_seconds": round(self.seconds, 3),
            "rendering_fps": round(self.frames / max(self.seconds, 1e-9), 2),
            "model_fps": round(self.frames / max(self.model_seconds, 1e-9), 2),
        }

    def coherence(self) -> dict[str, float | None]:
        """Temporal coherence of the result beside the source's: the std over frames of each frame's
        mean intensity (as the pose-to-image literature reports it) and the mean change between
        consecutive frames (flicker), both on 0–255."""
        change = {k: float(np.mean(v)) if v else None for k, v in self.changes.items()}
        return {
            "temporal_std": round(float(np.std(self.means["result"])), 3),
            "temporal_std_source": round(float(np.std(self.means["source"])), 3),
            "frame_change": None if change["result"] is None else round(change["result"], 3),
            "frame_change_source": None if change["source"] is None else round(change["source"], 3),
        }


def render_video(path: Path, model: TaskModel, motion: Motion, plan: RetargetPlan) -> Rendered:
    """Draw every frame of ``motion`` as the personalized model sees it and write them to ``path`` (MP4)."""
    count, rendered = len(motion), Rendered()
    if count == 0:
        raise UsageError("the source has no frames to render; give a longer source")
    rows = set(np.linspace(0, count - 1, min(SHEET_ROWS, count)).round().astype(int).tolist())
    started = time.perf_counter()
    stage = ProgressStage("render", count, plan.show_progress, plan.on_progress)
    with VideoWriter(path, motion.fps) as writer, stage:
        for start in range(0, count, RENDER_CHUNK):
            stop = min(count, start + RENDER_CHUNK)
            tick = time.perf_counter()
            with torch.no_grad():
                result = to_uint8(model.render(batch_to(motion.poses(start, stop), model.device))).numpy()
            rendered.model_seconds += time.perf_counter() - tick
            source, pose = (picture.numpy() for picture in motion.pictures(start, stop))
            other = [plan.beside.frames(motion.poses(start, stop))] if plan.beside else []
            frames = np.concatenate([*([source, pose] if plan.side_by_side else []), result, *other], axis=2)
            writer.write(frames)
            rendered.measure("result", result)
            rendered.measure("source", source)
            panels = [source, pose, result, *other]
            rendered.sheet += [[panel[i] for panel in panels] for i in range(stop - start) if start + i in rows]
            stage.advance(stop - start)
    rendered.seconds = time.perf_counter() - started
    rendered.frames, rendered.height, rendered.width = writer.frames, frames.shape[1], frames.shape[2]
    return rendered


def contact_sheet(rows: list[list[np.ndarray]], titles: tuple[str, ...] = SHEET_TITLES) -> np.ndarray:
    """Titled columns (source | pose | result, and what is beside), one row per frame, with thin dark gaps."""
    side = rows[0][0].shape[0]
    width = len(titles) * side + (len(titles) - 1) * GAP
    title = Image.new("RGB", (width, TITLE_HEIGHT), (GAP_COLOUR,) * 3)
    draw = ImageDraw.Draw(title)
    for i, text in enumerate(titles):
        draw.text((i * (side + GAP) + (side - draw.textlength(text)) / 2, 1), text, fill=(235, 235, 235))
    pieces = [np.asarray(title)]
    for row in rows:
        pieces.append(np.full((GAP, width, 3), GAP_COLOUR, np.uint8))
        pieces.append(join_across(row))
    return np.concatenate(pieces)


def join_across(panels: list[np.ndarray]) -> np.ndarray:
    """Panels (H×W×3 uint8) side by side with gaps."""
    gap = np.full((panels[0].shape[0], GAP, 3), GAP_COLOUR, np.uint8)
    return np.concatenate([piece for panel in panels for piece in (gap, panel)][1:], axis=1)

"""Frames as pictures and movies: a labelled strip of frame rows (PNG) and frame sets side by side (mp4);
:func:`show_frames` is the ``video-shot`` task's ``show`` (what an experiment's ``Render`` stage writes)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from metaframe.api import atomic_write, to_uint8, write_weights

SHOW_FPS = 30.0  # frames per second of the side-by-side mp4 of held-out frames


def frame_strip(rows: dict[str, torch.Tensor], columns: int = 8, gap: int = 2) -> np.ndarray:
    """One labelled row per frame set (B×H×W×3 uint8), ``columns`` frames evenly spread over B, on white."""
    from PIL import ImageDraw  # noqa: PLC0415

    frames = list(rows.values())
    count = len(frames[0])
    picks = np.linspace(0, count - 1, min(columns, count)).round().astype(int)
    height, width = frames[0].shape[1:3]
    margin = 8 + 7 * max(len(label) for label in rows)  # the default font is about 6 pixels a letter
    sheet = np.full((len(rows) * (height + gap) - gap, margin + len(picks) * (width + gap) - gap, 3), 255, np.uint8)
    for r, images in enumerate(frames):
        for c, index in enumerate(picks):
            y, x = r * (height + gap), margin + c * (width + gap)
            sheet[y : y + height, x : x + width] = images[index].numpy()
    picture = Image.fromarray(sheet)
    draw = ImageDraw.Draw(picture)
    for r, label in enumerate(rows):
        draw.text((4, r * (height + gap) + height // 2 - 5), label, fill=(0, 0, 0))
    return np.asarray(picture)


def write_side_by_side(path: Path, panels: list[torch.Tensor], fps: float) -> None:
    """The frame sets side by side as an mp4, written under a temporary name and renamed."""
    from metaframe_video.videofile import VideoWriter  # noqa: PLC0415 - PyAV only when an mp4 is written

    joined = torch.cat(panels, dim=2).numpy()  # B×H×(W·n)×3

    def write(tmp: Path) -> None:
        with VideoWriter(tmp, fps) as writer:
            writer.write(joined)

    atomic_write(path, write)


def save_picture(path: Path, picture: np.ndarray) -> None:
    """A uint8 H×W×3 array as a PNG, written under a temporary name and renamed."""
    atomic_write(path, lambda tmp: Image.fromarray(picture).save(tmp, format="PNG"))


def show_frames(examples: Mapping[str, torch.Tensor], folder: Path, fps: float = SHOW_FPS) -> dict[str, Any]:
    """Rows of frames (B×3×H×W in [-1, 1], keyed by label, the real ones first) as ``frames.safetensors``
    (uint8), ``strip.png`` (a row of frames per label) and ``frames.mp4`` (the rows side by side, at ``fps``)."""
    frames = {label: to_uint8(values) for label, values in examples.items()}
    folder.mkdir(parents=True, exist_ok=True)
    write_weights(folder / "frames.safetensors", {key: value.contiguous() for key, value in frames.items()})
    save_picture(folder / "strip.png", frame_strip(frames))
    write_side_by_side(folder / "frames.mp4", list(frames.values()), fps)
    return {"frames": len(next(iter(frames.values()))), "strip": "strip.png", "mp4": "frames.mp4"}

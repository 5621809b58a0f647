"""Helpers of the ``prepare`` tests: synthetic frame folders with OpenPose JSON, tiny videos, the real clip."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from metaframe_video.keypoints import BODY25_TO_COCO17

SHARED_DATA = Path(__file__).parents[2].parent / "shared" / "data"
SPORTS2D = SHARED_DATA / "sports2d-demo.mp4"

# A standing figure in COCO-17 order, in units of its height (x across, y down, feet at y = 1).
FIGURE = np.array(
    [[0, 0.05], [-0.02, 0.03], [0.02, 0.03], [-0.05, 0.05], [0.05, 0.05], [-0.12, 0.2], [0.12, 0.2], [-0.15, 0.38],
     [0.15, 0.38], [-0.16, 0.55], [0.16, 0.55], [-0.08, 0.55], [0.08, 0.55], [-0.08, 0.77], [0.08, 0.77],
     [-0.08, 1.0], [0.08, 1.0]]
)  # fmt: skip


def figure(x: float, feet_y: float, height: float) -> np.ndarray:
    """COCO-17 (x, y) of a standing figure centred on x, feet at ``feet_y``."""
    return FIGURE * height + np.array([x, feet_y - height])


def body25(points: np.ndarray) -> list[float]:
    """OpenPose BODY_25 ``pose_keypoints_2d`` (75 numbers) holding COCO-17 points; the rest missing (c = 0)."""
    flat = np.zeros((25, 3))
    flat[list(BODY25_TO_COCO17), :2] = points
    flat[list(BODY25_TO_COCO17), 2] = 0.9
    return flat.ravel().round(2).tolist()


def openpose_clip(
    root: Path, frames: int = 24, width: int = 160, height: int = 120, cut_at: int | None = None
) -> tuple[Path, Path]:
    """A frame folder and its OpenPose folder: a tall person walking right, a short one walking left.

    They cross in the middle of the clip. The frames are drawn (each person a coloured column), the
    keypoints are exact; frame t is ``frame_{t}.png`` with ``frame_{t}_keypoints.json``. From frame
    ``cut_at`` on, the background changes to green stripes: a new shot.
    """
    images, keypoints = root / "frames", root / "openpose"
    images.mkdir(parents=True)
    keypoints.mkdir()
    for t in range(frames):
        tall, short = figure(40 + 3 * t, 110, 90), figure(130 - 3 * t, 105, 60)
        image = np.full((height, width, 3), 90, np.uint8)
        if cut_at is not None and t >= cut_at:
            image[:] = (20, 160, 60)
            image[::16] = image[1::16] = image[2::16] = image[3::16] = (230, 230, 230)
        for points, colour in ((short, (40, 40, 200)), (tall, (200, 40, 40))):  # the tall one in front
            x0, y0, x1, y1 = (int(v) for v in (*points.min(0), *points.max(0)))
            image[y0:y1, x0:x1] = colour
        Image.fromarray(image).save(images / f"frame_{t}.png")
        people = [{"pose_keypoints_2d": body25(p)} for p in (short, tall)]
        (keypoints / f"frame_{t}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": people}))
    return images, keypoints


def write_video(path: Path, frames: np.ndarray, fps: int = 10) -> Path:
    """Encode uint8 frames N×H×W×3 as an MPEG-4 video with PyAV (an encoder every FFmpeg build has)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def need_sports2d() -> Path:
    """The real two-person clip, or a skip that says why it is missing."""
    if not SPORTS2D.is_file():
        pytest.skip(f"real test clip not found at {SPORTS2D} (the shared data folder beside the repository)")
    return SPORTS2D


def need_mediapipe() -> None:
    """Skip, saying why, where MediaPipe (the pose extra) is not installed."""
    pytest.importorskip(
        "mediapipe", reason="MediaPipe is not installed (pip install 'metaframe[pose]'; it needs Python ≤ 3.12)"
    )

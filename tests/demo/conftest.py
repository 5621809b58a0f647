"""Fixtures of the demo tests: the retarget tests' tiny run, and footage a person would upload — a photo of
a real person and a short clip of one, cut from the real test clip (``../shared/data``)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests.retarget.conftest import tiny_run, tiny_world  # noqa: F401 - fixtures, shared
from tests.video.conftest_prepare import need_mediapipe, need_sports2d

CLIP_FRAMES = 12


@pytest.fixture(scope="session")
def uploads(tmp_path_factory) -> dict[str, Path]:
    """``photo``: one frame of the real clip (two people; the largest is followed); ``clip``: 12 frames of it
    as an H.264 MP4 at a quarter size; ``text``: a text file named like a photo; ``empty``: a photo of nobody;
    ``still``: a video of nobody."""
    need_mediapipe()
    folder = tmp_path_factory.mktemp("uploads")
    with av.open(str(need_sports2d())) as container:
        frames = [
            frame.to_ndarray(format="rgb24") for _, frame in zip(range(10 + CLIP_FRAMES), container.decode(video=0))
        ]
    Image.fromarray(frames[0]).resize((884, 497)).save(folder / "person.png")
    with av.open(str(folder / "dance.mp4"), "w") as video:
        stream = video.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 442, 248, "yuv420p"
        for frame in frames[10:]:
            small = np.asarray(Image.fromarray(frame).resize((442, 248)))
            video.mux(stream.encode(av.VideoFrame.from_ndarray(small, format="rgb24")))
        video.mux(stream.encode())
    with av.open(str(folder / "still.mp4"), "w") as video:  # a wall, and nobody
        stream = video.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for shade in range(6):
            wall = np.full((240, 320, 3), 120 + shade, np.uint8)
            video.mux(stream.encode(av.VideoFrame.from_ndarray(wall, format="rgb24")))
        video.mux(stream.encode())
    (folder / "not-a-photo.png").write_text("a text file, named like a photo\n")
    Image.new("RGB", (320, 240), (90, 140, 200)).save(folder / "nobody.png")
    return {
        "photo": folder / "person.png",
        "clip": folder / "dance.mp4",
        "text": folder / "not-a-photo.png",
        "empty": folder / "nobody.png",
        "still": folder / "still.mp4",
    }

"""Writing an MP4 with PyAV, frame batch by frame batch.

The file is written under a temporary name beside its destination and renamed over it when complete
(``metaframe.api.atomic_write``), so nothing half-written is ever under the final name.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from metaframe.api import UsageError

CODECS = ("libx264", "mpeg4")  # H.264, which every player reads, where this FFmpeg has it; else MPEG-4 part 2
QUALITY = {"libx264": {"crf": "18", "preset": "medium"}, "mpeg4": {"qscale": "2"}}


def check_video_output(path: Path, flag: str = "--out") -> None:
    """Refuse, before any work, an output that cannot be written: not ``.mp4``, a folder, a folder that
    cannot be made or written."""
    if path.suffix.lower() != ".mp4":
        raise UsageError(f"{flag} {path}: the output is written as MP4; give a name ending in .mp4")
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a folder; give a file name, e.g. {path / 'retarget.mp4'}")
    parent = next(p for p in path.absolute().parents if p.exists())
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: {parent} is not a writable folder; choose another place")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{flag} {path} exists and cannot be replaced (no write permission); choose another name")


def frame_rate(fps: float) -> Fraction:
    """``fps`` as the exact fraction a container stores (29.97 → 30000/1001)."""
    return Fraction(fps).limit_denominator(1001)


class VideoWriter:
    """Frames (uint8 B×H×W×3 arrays, all of one size) into an MP4 at ``fps``; use as a context manager."""

    def __init__(self, path: Path, fps: float) -> None:
        self.container = av.open(str(path), "w", format="mp4")
        self.fps = fps
        self.stream: av.video.stream.VideoStream | None = None
        self.frames = 0

    def __enter__(self) -> VideoWriter:
        return self

    def write(self, frames: np.ndarray) -> None:
        """Append frames; the first ones fix the size (odd sides get one black pixel, as YUV 4:2:0 needs)."""
        for image in frames:
            image = np.pad(image, ((0, image.shape[0] % 2), (0, image.shape[1] % 2), (0, 0)))
            if self.stream is None:
                self.stream = self.open_stream(image.shape[1], image.shape[0])
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            self.container.mux(self.stream.encode(frame))
            self.frames += 1

    def open_stream(self, width: int, height: int) -> av.video.stream.VideoStream:
        """The video stream, with the best codec this FFmpeg has."""
        codec = next(name for name in CODECS if has_encoder(name))
        stream = self.container.add_stream(codec, rate=frame_rate(self.fps), options=QUALITY[codec])
        assert isinstance(stream, av.video.stream.VideoStream)  # a video codec gives a video stream
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        return stream

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if kind is None and self.stream is not None:
                self.container.mux(self.stream.encode())  # flush the encoder's delayed frames
        finally:
            self.container.close()


def has_encoder(name: str) -> bool:
    """Whether this FFmpeg build can encode with codec ``name``."""
    try:
        av.codec.Codec(name, "w")
    except (av.codec.codec.UnknownCodecError, ValueError):
        return False
    return True

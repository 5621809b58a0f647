"""Fixtures of the retarget tests: a tiny trained pose2im run on the tiny synthetic world, and footage made
from that world's dancers (videos, frame folders, photos, OpenPose JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from metaframe.testing import run_cli
from metaframe_video.dataset import read_index, read_shot
from metaframe_video.keypoints import BODY25_TO_COCO17
from metaframe_video.synthetic.world import dataset_folder
from metaframe_video.task.video_shot import TEST_OPTIONS, VideoShotOptions

TINY_TASK = dict(TEST_OPTIONS)  # 3 + 2 dancers × 24 frames at 32 px: what the contract tests use
TINY_RUN = [
    "--model", "pose2im", "--task", "video-shot", "--set", "model.scale=tiny", "--set", "model.init=none",
    *[arg for key, value in TINY_TASK.items() for arg in ("--set", f"task.{key}={value}")],
    "--meta-iterations", "1", "--k", "2", "--t", "1", "--device", "cpu", "--quiet",
]  # fmt: skip


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A pose2im run folder: one Reptile meta-iteration of the tiny model (K = 2, T = 1) on the tiny world."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    result = run_cli(["run", "reptile", *TINY_RUN, "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def tiny_world() -> Path:
    """The tiny world's dataset folder (rendered once per test session)."""
    return dataset_folder(VideoShotOptions(**TINY_TASK).synthetic())


def dancer(world: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One synthetic dancer's frames (N×32×32×3) and COCO-17 keypoints (N×17×3)."""
    video = next(v for v in read_index(world)["videos"] if v["id"] == name)
    shot = read_shot(world, video, video["shots"][0])
    return shot.frames, shot.keypoints


def write_openpose(folder: Path, keypoints: np.ndarray, name: str = "frame_{:04d}_keypoints.json") -> Path:
    """One BODY_25 JSON file per frame (a frame whose keypoints all have score 0 has nobody in it)."""
    folder.mkdir(parents=True, exist_ok=True)
    for t, points in enumerate(keypoints):
        flat = np.zeros((25, 3))
        flat[list(BODY25_TO_COCO17)] = points
        people = [{"pose_keypoints_2d": flat.ravel().round(2).tolist()}] if (points[:, 2] > 0).any() else []
        (folder / name.format(t)).write_text(json.dumps({"people": people}))
    return folder


def write_frames(folder: Path, frames: np.ndarray) -> Path:
    """Frames as ``frame_0000.png`` … in a folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for t, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"frame_{t:04d}.png")
    return folder


def write_mp4(path: Path, frames: np.ndarray, fps: int) -> Path:
    """Frames as an MPEG-4 video (an encoder every FFmpeg build has); no frames gives a video of none."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        container.start_encoding()  # the header, even for a video of no frames
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def read_video(path: Path) -> tuple[int, float, int, int]:
    """(frames decoded, frame rate, width, height) of a video file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(stream))
        return count, float(stream.average_rate), stream.width, stream.height


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks gain nothing from intra-op threads, and on a busy machine OpenMP's spin-waiting makes
    two threads far slower than one; the setting is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

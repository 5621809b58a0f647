"""The on-disk format of a video dataset, shared by ``metaframe prepare``, the synthetic dancers and
the ``video-shot`` task.

::

    DATASET_DIR/
      dataset.json                 {"format": "metaframe-video/1", "keypoints": "coco17", "size": S,
                                    "videos": [{"id": ..., "identity": ..., "split": "train"|"eval",
                                                "shots": [{"id": ..., "frames": N}, ...]}, ...]}
      VIDEO_ID/SHOT_ID/frames/000000.png ...   S×S RGB frames (png or jpg)
      VIDEO_ID/SHOT_ID/keypoints.json          {"keypoints": "coco17", "frames": [[[x, y, score] × 17] × N]}

Keypoint coordinates are pixels of the S×S frame, continuous: the frame's top-left corner is (0, 0) and
pixel (row i, column j) covers [j, j+1) × [i, i+1); a missing keypoint has score 0. ``identity`` groups
videos of the same person (evaluation identities never appear in training); ``split`` is optional for
prepared real videos (then every video is usable for evaluation).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from metaframe.api import UsageError, current_umask
from metaframe_video.keypoints import COCO17

FORMAT = "metaframe-video/1"


@dataclass
class Shot:
    """One shot of one video, loaded in memory.

    :param frames: uint8 array N×S×S×3.
    :param keypoints: float32 array N×17×3 of (x, y, score) in pixels.
    """

    video: str
    identity: str
    shot: str
    frames: np.ndarray
    keypoints: np.ndarray


def read_index(root: Path) -> dict[str, Any]:
    """The ``dataset.json`` of ``root``; a missing or foreign folder is a UsageError."""
    index_path = Path(root) / "dataset.json"
    if not index_path.is_file():
        raise UsageError(
            f"{root} is not a metaframe video dataset (no dataset.json); make one with `metaframe prepare`"
        )
    try:
        index = json.loads(index_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{index_path} is damaged ({error}); prepare the dataset again") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        found = index.get("format") if isinstance(index, dict) else type(index).__name__
        raise UsageError(f"{index_path} has format {found!r}; expected {FORMAT!r}")
    check_index(index, index_path)
    return index


def check_index(index: dict[str, Any], path: Path) -> None:
    """Every video and shot entry has the fields the readers use, and every id names a folder inside
    the dataset (one path component: no ``/``, no ``..``), so a dataset file cannot point elsewhere."""
    videos = index.get("videos")
    if not isinstance(videos, list):
        raise UsageError(f"{path}: 'videos' must be a list of video entries; prepare the dataset again")
    for video in videos:
        shots = video.get("shots") if isinstance(video, dict) else None
        if not isinstance(shots, list):
            raise UsageError(f"{path}: video entry {str(video)[:60]} has no list of 'shots'; prepare the dataset again")
        check_id(video.get("id"), "video", path)
        for shot in shots:
            if not isinstance(shot, dict) or not isinstance(shot.get("frames"), int) or shot["frames"] < 1:
                raise UsageError(f"{path}: shot entry {str(shot)[:60]} needs an id and a positive 'frames' count")
            check_id(shot.get("id"), "shot", path)


def check_id(value: object, kind: str, path: Path) -> None:
    """A video or shot id must be a plain folder name."""
    if not isinstance(value, str) or not value or value in (".", "..") or "/" in value or "\\" in value:
        raise UsageError(
            f"{path}: {kind} id {value!r} is not a plain folder name inside the dataset; fix or prepare it again"
        )


def read_shot(root: Path, video: dict[str, Any], shot: dict[str, Any]) -> Shot:
    """Load one shot's frames and keypoints into memory."""
    paths = frame_paths(root, video, shot)
    keypoints = read_keypoints(root, video, shot, len(paths))
    frames = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths])
    return Shot(video["id"], video.get("identity", video["id"]), shot["id"], frames, keypoints)


def frame_paths(root: Path, video: dict[str, Any], shot: dict[str, Any]) -> list[Path]:
    """The image files of one shot's frames, in frame order."""
    folder = Path(root) / video["id"] / shot["id"] / "frames"
    if not folder.is_dir():
        raise UsageError(f"{folder} is missing; the dataset at {root} is incomplete, prepare it again")
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))


def read_keypoints(root: Path, video: dict[str, Any], shot: dict[str, Any], frames: int) -> np.ndarray:
    """One shot's keypoints as float32 ``frames``×17×3; a shape that does not match is a UsageError."""
    path = Path(root) / video["id"] / shot["id"] / "keypoints.json"
    keypoints = np.asarray(json.loads(path.read_text())["frames"], dtype=np.float32)
    if keypoints.shape != (frames, len(COCO17), 3):
        raise UsageError(f"{path} has shape {keypoints.shape}; expected ({frames}, 17, 3)")
    return keypoints


def read_frames(paths: list[Path], indices: list[int]) -> np.ndarray:
    """Only the frames at ``indices`` of a shot whose frame files are ``paths``, as uint8 N×S×S×3."""
    return np.stack([np.asarray(Image.open(paths[i]).convert("RGB")) for i in indices])


def write_shot(root: Path, video_id: str, shot_id: str, frames: np.ndarray, keypoints: np.ndarray) -> dict[str, Any]:
    """Write one shot (frames N×S×S×3 uint8, keypoints N×17×3) under ``root``; returns its index entry."""
    folder = Path(root) / video_id / shot_id
    (folder / "frames").mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / "frames" / f"{i:06d}.png", compress_level=1)
    payload = {"keypoints": "coco17", "frames": np.round(keypoints.astype(float), 2).tolist()}
    (folder / "keypoints.json").write_text(json.dumps(payload))
    return {"id": shot_id, "frames": len(frames)}


def write_index(root: Path, size: int, videos: list[dict[str, Any]], **extra: Any) -> None:
    """Write ``dataset.json`` (last, so a folder with an index is complete)."""
    index = {"format": FORMAT, "keypoints": "coco17", "size": size, "videos": videos, **extra}
    (Path(root) / "dataset.json").write_text(json.dumps(index, indent=1))


@contextmanager
def staged_folder(destination: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``destination`` that replaces it only if the block succeeds.

    Nothing half-written is ever left at ``destination``: an interrupted write leaves at most a
    ``.DEST.partial-*`` folder, which the next call removes.
    """
    destination = Path(destination)
    parent = destination.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        for stale in parent.glob(f".{destination.name}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=parent))
        staging.chmod(0o777 & ~current_umask())  # mkdtemp makes the folder private; a dataset is not
    except OSError as error:
        raise UsageError(f"cannot write under {parent} ({error.strerror}); choose a writable folder") from None
    try:
        yield staging
        if destination.exists():
            shutil.rmtree(destination)
        os.replace(staging, destination)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)

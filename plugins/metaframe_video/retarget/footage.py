"""Reading a person for retargeting, as square frames at the task's size with their COCO-17 keypoints.

What the user gives (``--target``, ``--source``) is one of:

- ``synthetic:DANCER`` — a video of the run's synthetic dancers (``train-000``, ``eval-003``, ...);
- a prepared dataset folder (``dataset.json`` in it; it must hold one person) or one video folder of it;
- a video file, a folder of frames or a single image — prepared on the fly by ``metaframe prepare``'s own
  code (pose estimation or OpenPose keypoints, following one person, one steady square crop per shot)
  into the metaframe cache, keyed by the file's path, size and time and by the options, so the same clip
  is prepared once. A target keeps the frames where the person was found; a source keeps every frame
  (those without the person have no keypoints, and whole shots without them stand as black frames), so
  the output has exactly the source's frames.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from metaframe.api import Batch, UsageError, say
from metaframe_video.dataset import frame_paths, read_index, read_keypoints
from metaframe_video.keypoints import COCO17
from metaframe_video.retarget.contract import Footage
from metaframe_video.synthetic.world import cache_root, dataset_folder
from metaframe_video.task.splits import ShotRecord
from metaframe_video.task.video_shot import VideoShotTasks

SYNTHETIC = "synthetic:"
PREPARED_FORMAT = 1  # bump when what is prepared for retargeting changes: the cache is then made again
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
PREPARED_ROOT: ContextVar[Path | None] = ContextVar("PREPARED_ROOT", default=None)
"""Where footage is prepared on the fly (None: the metaframe cache's ``retarget/``); see :func:`preparing_in`."""
KINDS = "a video, an image, a folder of frames, a prepared dataset or synthetic:DANCER"


@dataclass
class Clip:
    """One person's frames in order: frame files (None: a frame without an image, drawn black) and their
    COCO-17 keypoints (N×17×3, pixels of a ``size``-pixel frame), the shot of each frame, the frame rate."""

    name: str
    paths: list[Path | None]
    keypoints: np.ndarray
    shots: np.ndarray
    fps: float | None
    size: int

    def __len__(self) -> int:
        return len(self.paths)

    def posed(self) -> np.ndarray:
        """Whether each frame has a pose (at least one keypoint found)."""
        return (self.keypoints[..., 2] > 0).any(axis=1)

    def frames(self, indices: list[int]) -> np.ndarray:
        """The frames at ``indices`` as uint8 N×S×S×3 (resized to the task's size where stored otherwise)."""
        return np.stack([self.frame(self.paths[i]) for i in indices])

    def frame(self, path: Path | None) -> np.ndarray:
        """One frame at the task's size; black where there is no image."""
        if path is None:
            return np.zeros((self.size, self.size, 3), np.uint8)
        with Image.open(path) as stored:
            image = stored.convert("RGB")
        if image.size != (self.size, self.size):
            image = image.resize((self.size, self.size), Image.Resampling.LANCZOS)
        return np.asarray(image)

    def record(self) -> ShotRecord:
        """The clip as the task's shot record, so support batches are made exactly as in training (only
        frames with a pose are ever read from it, and every one of them has an image)."""
        return ShotRecord(self.name, self.name, "retarget", None, self.paths, self.keypoints)  # type: ignore[arg-type]


def target_examples(tasks: VideoShotTasks, target: Footage, k: int | None) -> Batch:
    """K frames of the target person, spread evenly over the frames with a pose, as a support batch."""
    frames = frames_before_preparing(target)
    if frames == 0:
        raise UsageError(f"the target {target.spec} holds no frame; give a photo, a video or a folder of frames")
    if k is not None and frames is not None and k > frames:  # said before a long preparation, not after
        raise UsageError(f"--k {k}: the target {target.spec} has only {frames} frame(s); give --k {frames} or less")
    clip = open_clip(target, tasks.options, "target")
    posed = np.flatnonzero(clip.posed())
    if len(posed) == 0:
        raise UsageError(f"no person found in the target {target.spec}: none of its {len(clip)} frames has a pose")
    if k is not None and k > len(posed):
        raise UsageError(
            f"--k {k}: the target {target.spec} has only {len(posed)} frame(s) with the person; "
            f"give --k {len(posed)} or less, or a longer target"
        )
    k = min(tasks.k, len(posed)) if k is None else k
    chosen = posed[np.linspace(0, len(posed) - 1, k).round().astype(int)]
    return tasks.batch(clip.record(), chosen.tolist())


def frames_before_preparing(footage: Footage) -> int | None:
    """How many frames a video, frame folder or photo has (None for anything else, or a video that does not say)."""
    path = Path(footage.spec).expanduser()
    if footage.spec.startswith(SYNTHETIC) or not path.exists() or (path / "dataset.json").is_file():
        return None
    if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
        return 1
    if path.is_dir():
        return None if (path.parent / "dataset.json").is_file() else len(image_files(path))
    from metaframe_video.prepare.sources import Selection, open_source  # noqa: PLC0415 - PyAV only for videos

    return open_source(path, Selection()).count


def image_files(folder: Path) -> list[Path]:
    """The image files in a folder."""
    return [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]


def open_clip(footage: Footage, options: Any, role: str) -> Clip:
    """The person in ``footage`` (``role``: ``target`` or ``source``) at the task's frame size.

    :param options: the task's :class:`~metaframe_video.task.video_shot.VideoShotOptions` (size, synthetic world).
    """
    spec = footage.spec
    if spec.startswith(SYNTHETIC):
        return limit(synthetic_clip(spec.removeprefix(SYNTHETIC), options), footage.max_frames)
    path = Path(spec).expanduser()
    if not path.exists():
        raise UsageError(f"--{role} {spec} does not exist; give {KINDS}")
    if (path / "dataset.json").is_file():
        return limit(dataset_clip(path, None, options.size), footage.max_frames)
    if path.is_dir() and (path.parent / "dataset.json").is_file():
        return limit(dataset_clip(path.parent, path.name, options.size), footage.max_frames)
    return dataset_clip(prepared(footage, path, options.size, role), None, options.size)


def limit(clip: Clip, max_frames: int | None) -> Clip:
    """The first ``max_frames`` frames of ``clip`` (all of them for None)."""
    if max_frames is None or max_frames >= len(clip):
        return clip
    cut = slice(0, max_frames)
    return Clip(clip.name, clip.paths[cut], clip.keypoints[cut], clip.shots[cut], clip.fps, clip.size)


def synthetic_clip(dancer: str, options: Any) -> Clip:
    """A video of the run's synthetic dancers (rendered into the cache the first time)."""
    root = dataset_folder(options.synthetic())
    ids = [video["id"] for video in read_index(root)["videos"]]
    if dancer not in ids:
        raise UsageError(f"unknown synthetic dancer {dancer!r}; choose one of {', '.join(spans(ids))}")
    return dataset_clip(root, dancer, options.size)


def spans(ids: list[str]) -> list[str]:
    """Dancer ids, each run of one prefix as ``first … last`` (``train-000 … train-023``)."""
    groups: dict[str, list[str]] = {}
    for name in ids:
        groups.setdefault(name.rsplit("-", 1)[0], []).append(name)
    return [group[0] if len(group) == 1 else f"{group[0]} … {group[-1]}" for group in groups.values()]


def dataset_clip(root: Path, video_id: str | None, size: int) -> Clip:
    """The frames of one person in a dataset: video ``video_id``, or all of them when they are one identity."""
    index = read_index(root)
    videos = [v for v in index["videos"] if video_id is None or v["id"] == video_id]
    if not videos:
        raise UsageError(f"{root} has no video {video_id!r}; it holds {', '.join(v['id'] for v in index['videos'])}")
    people = sorted({v.get("identity", v["id"]) for v in videos})
    if len(people) > 1:
        raise UsageError(
            f"{root} holds {len(people)} people ({', '.join(people[:4])}); give one video folder of it, "
            f"e.g. {root / videos[0]['id']}"
        )
    scale = size / int(index.get("size", size))  # keypoints are pixels of the stored frames
    parts = [part for video in videos for part in video_parts(root, video)]
    keypoints = np.concatenate([p[1] for p in parts]) * np.array([scale, scale, 1], np.float32)
    shots = np.concatenate([np.full(len(p[0]), n) for n, p in enumerate(parts)])
    fps = next((fps for video in videos if (fps := video_fps(video, index)) is not None), None)
    return Clip(videos[0]["id"], [path for p in parts for path in p[0]], keypoints, shots, fps, size)


def video_parts(root: Path, video: dict[str, Any]) -> list[tuple[list[Path | None], np.ndarray]]:
    """Each shot's frame files and keypoints, and each skipped shot (no one in it) as frames without an
    image or a pose, in the order of the source: the output keeps every frame ``prepare`` read."""
    parts: list[tuple[int, list[Path | None], np.ndarray]] = []
    for shot in video["shots"]:
        paths = frame_paths(root, video, shot)
        parts.append((shot.get("first_frame", 0), list(paths), read_keypoints(root, video, shot, len(paths))))
    for skipped in video.get("skipped_shots", []):
        count = (skipped["last_frame"] - skipped["first_frame"]) // video["shots"][0].get("every", 1) + 1
        parts.append((skipped["first_frame"], [None] * count, np.zeros((count, len(COCO17), 3), np.float32)))
    return [(paths, keypoints) for _, paths, keypoints in sorted(parts, key=lambda part: part[0])]


def video_fps(video: dict[str, Any], index: dict[str, Any]) -> float | None:
    """The frame rate a dataset records for a video (``prepare``'s source, or the synthetic world's)."""
    every = video["shots"][0].get("every", 1) if video["shots"] else 1
    source_fps = (video.get("source") or {}).get("fps")
    if source_fps:
        return float(source_fps) / every
    synthetic = index.get("synthetic") or {}
    return float(synthetic["fps"]) if synthetic.get("fps") else None


def prepared(footage: Footage, path: Path, size: int, role: str) -> Path:
    """``path`` prepared as a one-video dataset in the cache (made now unless it was made before)."""
    from metaframe_video.prepare.boxes import opencv  # noqa: PLC0415
    from metaframe_video.prepare.cli import parse_person  # noqa: PLC0415
    from metaframe_video.prepare.pipeline import PrepareOptions, prepare  # noqa: PLC0415 - OpenCV only when preparing
    from metaframe_video.prepare.sources import Selection  # noqa: PLC0415

    options = PrepareOptions(
        size=size,
        person=parse_person(footage.person),
        selection=Selection(max_frames=footage.max_frames),
        min_shot=1,  # a retarget uses every frame it can: a short shot is still the person
        keep_lost=role == "source",  # the output has one frame per source frame
    )
    folder = (PREPARED_ROOT.get() or cache_root() / "retarget") / cache_key(footage, path, options)
    if (folder / "dataset.json").is_file():
        say(f"{path.name}: prepared before, read from {folder}")
        return folder
    opencv()  # without the pose extra: one line, before anything is read or written
    keypoints = [footage.keypoints] if footage.keypoints is not None else None
    if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
        with one_image_folder(path) as frames:
            try:
                prepare([frames], folder, options, keypoints)
            except UsageError as error:  # name the photo given, not the temporary folder made for it
                raise UsageError(str(error).replace(str(frames), str(path))) from None
    else:
        prepare([path], folder, options, keypoints)
    return folder


def cache_key(footage: Footage, path: Path, options: Any) -> str:
    """A name for the prepared copy: the inputs' identity (path, sizes, times) and the options."""
    payload = {
        "format": PREPARED_FORMAT,
        "input": fingerprint(path),
        "keypoints": fingerprint(footage.keypoints) if footage.keypoints is not None else None,
        "options": repr(options),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def fingerprint(path: Path) -> list[Any]:
    """What changes when a file or a folder's files change: resolved path, then name, size and time of each."""
    path = path.resolve()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    return [str(path), *[(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]]


@contextmanager
def one_image_folder(image: Path) -> Iterator[Path]:
    """A temporary folder holding one image (a link to it), so ``prepare`` reads a photo as a one-frame clip."""
    root = Path(tempfile.mkdtemp(prefix="metaframe-photo-"))
    try:
        folder = root / (image.stem or "photo")
        folder.mkdir()
        try:
            os.symlink(image.resolve(), folder / image.name)
        except OSError:  # a file system without links: a copy does as well
            shutil.copyfile(image, folder / image.name)
        yield folder
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def preparing_in(folder: Path) -> Iterator[None]:
    """Prepare footage inside this block (in this thread) into ``folder`` instead of the shared cache: for
    footage seen once, such as a web page's uploads, removed with ``folder``."""
    token = PREPARED_ROOT.set(folder)
    try:
        yield
    finally:
        PREPARED_ROOT.reset(token)

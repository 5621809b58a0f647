"""``metaframe prepare``: real videos → a video dataset (square frames of one person + COCO-17 keypoints).

Each source (a video file, or a folder of frames) is read twice, so that no video is ever held in memory:

1. **shots and poses** — a cut is found from each frame and the one before it (:mod:`metaframe_video.prepare.shots`);
   in each shot, the chosen person is followed (:mod:`metaframe_video.prepare.track` with MediaPipe Pose, or OpenPose
   JSON keypoints given with ``--keypoints``, :mod:`metaframe_video.prepare.pose_openpose`);
2. **frames** — each shot with enough frames of the person is cut with one steady square around them,
   resized to ``size`` and written with :func:`~metaframe_video.dataset.write_shot`.

Everything is written into a staging folder that replaces ``out`` only at the end
(:func:`~metaframe_video.dataset.staged_folder`): an interrupted run leaves no half-written dataset, and
running again starts afresh. The dataset gets a ``contact_sheet.png`` to check by eye.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from metaframe.api import UsageError, console_err, say
from metaframe_video.dataset import read_index, staged_folder, write_index, write_shot
from metaframe_video.prepare.boxes import Person
from metaframe_video.prepare.sheet import SheetSampler, save_sheet, spread
from metaframe_video.prepare.shots import Look, crop_to, keypoints_to, steady_square
from metaframe_video.prepare.sources import Frame, Selection, Source, open_source
from metaframe_video.prepare.track import LARGEST

SHEET = "contact_sheet.png"


@dataclass(frozen=True)
class PrepareOptions:
    """How ``prepare`` reads, follows, crops and labels (the CLI's options, documented there)."""

    size: int = 256
    person: str | int = LARGEST
    selection: Selection = field(default_factory=Selection)
    min_shot: int = 10
    cut_threshold: float = 0.3
    margin: float = 0.15
    identity: str | None = None
    split: str | None = None
    keep_lost: bool = False
    sheet_frames: int = 16


@dataclass
class ShotPlan:
    """One shot: the source frames it spans, the chosen person in each (None = not found), its crop square."""

    people: list[tuple[int, Person | None]]
    square: np.ndarray | None = None

    @property
    def found(self) -> list[tuple[int, Person]]:
        """The frames where the person was found."""
        return [(index, person) for index, person in self.people if person is not None]

    def kept(self, keep_lost: bool) -> list[tuple[int, Person | None]]:
        """The frames to write: all of them, or only those with the person."""
        return [(index, person) for index, person in self.people if keep_lost or person is not None]


@dataclass
class VideoPlan:
    """One source, analysed: its shots and what was found, ready to be written."""

    video_id: str
    source: Source
    pose: str
    shots: list[ShotPlan]

    @property
    def read(self) -> int:
        """Frames read from the source (after --start, --every, --max-frames)."""
        return sum(len(shot.people) for shot in self.shots)

    @property
    def missing(self) -> int:
        """Frames in which the person was not found."""
        return sum(len(shot.people) - len(shot.found) for shot in self.shots)


def prepare(
    videos: list[Path], out: Path, options: PrepareOptions, keypoints: list[Path] | None = None
) -> dict[str, Any]:
    """Make the dataset ``out`` from ``videos`` (files or frame folders); returns its index (``dataset.json``).

    :param keypoints: OpenPose JSON folders, one per video (then MediaPipe is not used).
    """
    check_output(out, videos)
    if keypoints and len(keypoints) != len(videos):
        raise UsageError(f"{len(keypoints)} --keypoints folders for {len(videos)} videos; give one per video")
    started = time.perf_counter()
    sources = [open_source(Path(path), options.selection) for path in videos]
    ids = video_ids(videos)
    with ExitStack() as stack, _progress() as progress:
        models = _Models(stack)
        plans = [
            plan_video(ids[k], source, options, keypoints[k] if keypoints else None, models, progress)
            for k, source in enumerate(sources)
        ]
        with staged_folder(out) as staging:
            write_dataset(staging, plans, options, progress)
    index = read_index(out)
    frames = sum(shot["frames"] for video in index["videos"] for shot in video["shots"])
    shots = sum(len(video["shots"]) for video in index["videos"])
    counts = f"{plural(frames, 'frame')} in {plural(shots, 'shot')} of {plural(len(plans), 'video')}"
    say(f"wrote {out}: {counts} ({time.perf_counter() - started:.1f} s)")
    say(f"check it by eye: {out / SHEET}")
    return index


def check_output(out: Path, videos: list[Path]) -> None:
    """Refuse an ``--out`` that is not ours to replace (a folder with other things in it, or an input)."""
    out = Path(out)
    if any(out.resolve() == Path(v).resolve() or out.resolve() in Path(v).resolve().parents for v in videos):
        raise UsageError(f"--out {out} would replace an input; choose another folder")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; choose a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "dataset.json").is_file():
        raise UsageError(f"--out {out} holds files that are not a metaframe dataset; choose a new or empty folder")


def video_ids(videos: list[Path]) -> list[str]:
    """A folder-safe, unique id per video, from its file name (``clip``, ``clip-2``, ...)."""
    ids: list[str] = []
    for path in videos:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(path).stem).strip("-.") or "video"
        name, n = base, 1
        while name in ids:
            n += 1
            name = f"{base}-{n}"
        ids.append(name)
    return ids


class _Models:
    """MediaPipe's detector and tracker, loaded once for all videos and only if one needs them."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self.pair: tuple[Any, Any] | None = None

    def get(self) -> tuple[Any, Any]:
        """(single-image detector, video-mode tracker)."""
        if self.pair is None:
            from metaframe_video.prepare.pose_mediapipe import MediaPipePose  # noqa: PLC0415 - optional dependency

            self.pair = (self._stack.enter_context(MediaPipePose()), self._stack.enter_context(MediaPipePose(True)))
        return self.pair


def _progress() -> Progress:
    """Progress bars on stderr, gone when done (the summary lines stay); none in a log, where a bar would
    leave only an empty line (and an error would no longer be one line)."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=console_err, transient=True, disable=not console_err.is_terminal)


def plan_video(
    video_id: str, source: Source, options: PrepareOptions, keypoints: Path | None, models: _Models, progress: Progress
) -> VideoPlan:
    """Find the shots and the chosen person in them; a video without the person is a UsageError."""
    if keypoints is not None:
        from metaframe_video.prepare.pose_openpose import ListFollower, OpenPoseFolder  # noqa: PLC0415

        folder = OpenPoseFolder(keypoints, source)
        new_follower, pose = (lambda: ListFollower(options.person, folder.people)), "openpose"
    else:
        from metaframe_video.prepare.track import Follower  # noqa: PLC0415 - keeps MediaPipe optional

        detector, tracker = models.get()
        new_follower, pose = (lambda: Follower(detector, tracker, options.person)), _mediapipe_name()
    plan = VideoPlan(video_id, source, pose, [ShotPlan(p) for p in follow(source, options, new_follower, progress)])
    for shot in plan.shots:
        found = shot.found
        if len(shot.kept(options.keep_lost)) >= options.min_shot and found:
            shot.square = steady_square([p.box for _, p in found], source.width, source.height, options.margin)
    _check_found(plan, options)
    kept = sum(shot.square is not None for shot in plan.shots)
    say(
        f"{source.path.name}: {plural(plan.read, 'frame')}, {plural(len(plan.shots), 'shot')} ({kept} kept), "
        f"person found in {plan.read - plan.missing} ({plan.missing} without"
        f"{', kept with score-0 keypoints' if options.keep_lost else ', dropped'})"
    )
    return plan


def plural(count: int, noun: str) -> str:
    """``1 frame``, ``2 frames``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _mediapipe_name() -> str:
    """The pose model, as recorded in the dataset."""
    from metaframe_video.prepare.pose_mediapipe import mediapipe_version  # noqa: PLC0415 - optional dependency

    return f"mediapipe-{mediapipe_version()} pose model_complexity=1"


def _check_found(plan: VideoPlan, options: PrepareOptions) -> None:
    """A UsageError when no shot of the video has enough frames of the person."""
    if any(shot.square is not None for shot in plan.shots):
        return
    path, read, missing = plan.source.path, plan.read, plan.missing
    if missing == read:
        hint = "; check that a person is fully in view" if options.person == LARGEST else ""
        raise UsageError(f"no person found in {path}: none of its {read} frames read had one{hint}")
    raise UsageError(
        f"{path}: the person was found in only {read - missing} of {read} frames ({missing} had none), "
        f"no shot has --min-shot {options.min_shot} of them; lower --min-shot or use a longer clip"
    )


def follow(
    source: Source, options: PrepareOptions, new_follower: Callable[[], Any], progress: Progress
) -> list[list[tuple[int, Person | None]]]:
    """The chosen person (or None) in every selected frame, split into shots; a new follower for each shot.

    Shots and poses come from the same read: a cut needs only the frame before it. A follower is anything
    with ``follow(frame) -> Person | None`` and ``most_seen`` (the most people it saw at once).
    """
    shots: list[list[tuple[int, Person | None]]] = []
    followers: list[Any] = []
    before: Look | None = None
    task = progress.add_task(f"poses  {source.path.name}", total=source.expected)
    for frame in source.frames():
        look = Look.of(frame.image)
        if before is None or look.is_cut(before, options.cut_threshold):
            shots.append([])
            followers.append(new_follower())
        shots[-1].append((frame.index, followers[-1].follow(frame)))
        before = look
        progress.advance(task)
    progress.remove_task(task)
    if not shots:
        raise UsageError(f"no frames selected from {source.path}; check --start and --max-frames")
    _check_person_index(source, options, max(f.most_seen for f in followers), shots)
    return shots


def _check_person_index(
    source: Source, options: PrepareOptions, most_seen: int, shots: list[list[tuple[int, Person | None]]]
) -> None:
    """``--person N`` with never more than N people in view is a UsageError that says how many there were."""
    if options.person == LARGEST or most_seen == 0 or any(p is not None for shot in shots for _, p in shot):
        return
    raise UsageError(
        f"--person {options.person}: at most {most_seen} people at once in {source.path} "
        f"(numbered from 0, the leftmost); use --person {most_seen - 1} or less, or --person largest"
    )


def write_dataset(root: Path, plans: list[VideoPlan], options: PrepareOptions, progress: Progress) -> None:
    """Write every kept shot, the contact sheet and (last) the index into ``root``."""
    total = sum(len(s.kept(options.keep_lost)) for plan in plans for s in plan.shots if s.square is not None)
    sheet = SheetSampler(spread(total, options.sheet_frames))
    videos = [video_entry(plan, options, write_video(root, plan, options, progress, sheet)) for plan in plans]
    save_sheet(sheet.tiles, root / SHEET)
    prepared_with = {"command": "metaframe prepare", "pose": sorted({plan.pose for plan in plans}),
                     "options": _options_record(options)}  # fmt: skip
    write_index(root, options.size, videos, prepared_with=prepared_with)


@dataclass
class _Crops:
    """One shot's frames, cropped as ``write_shot`` asks for them, so a long shot never sits in memory.

    It reads on from the source's frame iterator, which the shots of one video share in order; each crop
    is offered to the contact sheet and counted on the progress bar on its way.
    """

    frames: Iterator[Frame]
    indices: list[int]
    square: np.ndarray
    size: int
    keypoints: np.ndarray
    caption: str
    sheet: SheetSampler
    advance: Callable[[], None]

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self) -> Iterator[np.ndarray]:
        for position, index in enumerate(self.indices):
            frame = next(f for f in self.frames if f.index == index)
            crop = crop_to(frame.image, self.square, self.size)
            self.sheet.offer(crop, self.keypoints[position], f"{self.caption}/{position}")
            self.advance()
            yield crop


def write_video(
    root: Path, plan: VideoPlan, options: PrepareOptions, progress: Progress, sheet: SheetSampler
) -> list[dict[str, Any]]:
    """Write the kept shots of one video; returns their index entries."""
    frames = plan.source.frames()
    shots = [shot for shot in plan.shots if shot.square is not None]
    total = sum(len(shot.kept(options.keep_lost)) for shot in shots)
    task = progress.add_task(f"frames {plan.source.path.name}", total=total)
    entries = []
    for number, shot in enumerate(shots):
        shot_id, kept, square = f"shot{number:03d}", shot.kept(options.keep_lost), shot.square
        assert square is not None
        keypoints = np.stack([_keypoints_in(person, square, options.size) for _, person in kept])
        crops = _Crops(frames, [i for i, _ in kept], square, options.size, keypoints, f"{plan.video_id}/{shot_id}",
                       sheet, lambda: progress.advance(task))  # fmt: skip
        entry = write_shot(root, plan.video_id, shot_id, crops, keypoints)  # type: ignore[arg-type]
        entries.append({**entry, **shot_record(shot, options)})
    progress.remove_task(task)
    return entries


def _keypoints_in(person: Person | None, square: np.ndarray, size: int) -> np.ndarray:
    """A person's keypoints in the crop's pixels; all score 0 for a frame without the person."""
    return np.zeros((17, 3), np.float32) if person is None else keypoints_to(person.keypoints, square, size)


def shot_record(shot: ShotPlan, options: PrepareOptions) -> dict[str, Any]:
    """Where a shot came from: its source frames, its crop square, the frames without the person."""
    assert shot.square is not None
    x0, y0, x1, _ = (int(v) for v in shot.square)
    every = options.selection.every
    return {
        "first_frame": shot.people[0][0],
        "last_frame": shot.people[-1][0],
        "every": every,
        "crop": {"x": x0, "y": y0, "side": x1 - x0},
        "frames_without_person": index_ranges([index for index, person in shot.people if person is None], every),
        "without_person": "kept" if options.keep_lost else "dropped",
    }


def index_ranges(indices: list[int], every: int) -> str:
    """Source frame indices, compactly: ``"3-7,12"`` (a range holds every ``every``-th frame in it)."""
    runs: list[list[int]] = []
    for index in indices:
        if runs and index - runs[-1][-1] == every:
            runs[-1][-1] = index
        else:
            runs.append([index, index])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def video_entry(plan: VideoPlan, options: PrepareOptions, shots: list[dict[str, Any]]) -> dict[str, Any]:
    """The index entry of one video: identity, split, provenance and shots."""
    source = plan.source
    entry: dict[str, Any] = {"id": plan.video_id, "identity": options.identity or plan.video_id}
    if options.split is not None:
        entry["split"] = options.split
    entry["source"] = {"path": str(source.path.resolve()), "width": source.width, "height": source.height,
                       "fps": None if source.fps is None else round(source.fps, 3)}  # fmt: skip
    entry.update(pose=plan.pose, person=options.person, frames_read=plan.read, frames_without_person=plan.missing)
    entry["shots"] = shots
    entry["skipped_shots"] = [
        {"first_frame": s.people[0][0], "last_frame": s.people[-1][0], "frames_with_person": len(s.found)}
        for s in plan.shots
        if s.square is None
    ]
    return entry


def _options_record(options: PrepareOptions) -> dict[str, Any]:
    """The options as plain JSON values."""
    record = asdict(options)
    record.update(record.pop("selection"))
    return record

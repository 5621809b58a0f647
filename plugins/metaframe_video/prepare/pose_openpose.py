"""OpenPose JSON keypoints, the format most retargeting datasets ship: one ``*_keypoints.json`` per frame,
``{"people": [{"pose_keypoints_2d": [x, y, c, ...]}, ...]}``, in OpenPose's COCO-18 layout (54 numbers)
or BODY_25 (75 numbers), mapped here to COCO-17. A missing keypoint has c = 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metaframe.api import UsageError
from metaframe_video.keypoints import BODY25_TO_COCO17, OPENPOSE18_TO_COCO17
from metaframe_video.prepare.boxes import Person, box_of, centre
from metaframe_video.prepare.sources import FolderSource, Frame, Source, natural_key
from metaframe_video.prepare.track import Track, choose, plausible

# COCO-17 order (nose, left/right eye, ear, shoulder, elbow, wrist, hip, knee, ankle) picked from each layout.
LAYOUTS = {54: OPENPOSE18_TO_COCO17, 75: BODY25_TO_COCO17}
EXPECTED = "54 numbers (18 keypoints × x, y, c: OpenPose COCO-18) or 75 (BODY_25)"
SUFFIX = "_keypoints.json"


def read_people(path: Path) -> list[Person]:
    """Everyone in one OpenPose JSON file, as COCO-17; a file of the wrong shape is a UsageError."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"cannot read {path} as JSON ({error}); expected OpenPose output") from None
    people = data.get("people") if isinstance(data, dict) else None
    if not isinstance(people, list):
        raise UsageError(f'{path} has no "people" list; expected OpenPose output {{"people": [...]}}')
    return [person for k, entry in enumerate(people) if (person := _person(path, k, entry)) is not None]


def _person(path: Path, k: int, entry: Any) -> Person | None:
    """One OpenPose person entry as COCO-17 (None if none of its keypoints was found)."""
    flat = entry.get("pose_keypoints_2d") if isinstance(entry, dict) else None
    length = len(flat) if isinstance(flat, list) else None
    if length not in LAYOUTS or not all(isinstance(v, (int, float)) for v in flat):  # type: ignore[union-attr]
        raise UsageError(f"{path}: person {k} has pose_keypoints_2d of {_describe(flat)}; expected {EXPECTED}")
    points = np.asarray(flat, dtype=np.float32).reshape(-1, 3)[list(LAYOUTS[length])]
    found = points[:, 2] > 0
    if not found.any():
        return None
    points[~found] = 0.0
    return Person(keypoints=points, box=box_of(points[found, :2]))


def _describe(value: Any) -> str:
    """What was found instead of a list of numbers, for the error message."""
    if not isinstance(value, list):
        return "type " + type(value).__name__
    return f"{len(value)} numbers" if all(isinstance(v, (int, float)) for v in value) else "non-numbers"


class OpenPoseFolder:
    """The keypoint files of one source, matched to its frames by name (``FRAME_keypoints.json``) or by order."""

    def __init__(self, folder: Path, source: Source) -> None:
        if not folder.is_dir():
            raise UsageError(f"--keypoints {folder} is not a folder; give the folder of OpenPose *{SUFFIX} files")
        self.folder = folder
        self.files = sorted(folder.glob(f"*{SUFFIX}"), key=natural_key)
        if not self.files:
            raise UsageError(f"{folder} holds no *{SUFFIX} files; give the folder OpenPose wrote (--write_json)")
        by_name = {p.name[: -len(SUFFIX)]: p for p in self.files}
        names = [p.stem for p in source.files] if isinstance(source, FolderSource) else []
        self.by_name = by_name if names and all(name in by_name for name in names) else None
        if self.by_name is None and source.count is not None and source.count != len(self.files):
            raise UsageError(
                f"{folder} has {len(self.files)} keypoint files for {source.count} frames of {source.path}; "
                f"give one FRAME{SUFFIX} per frame"
            )

    def people(self, frame: Frame) -> list[Person]:
        """Everyone in one frame."""
        if self.by_name is not None and frame.name is not None:
            return read_people(self.by_name[frame.name])
        if frame.index >= len(self.files):
            raise UsageError(f"{self.folder} has no keypoint file for frame {frame.index}; give one per frame")
        return read_people(self.files[frame.index])


@dataclass
class ListFollower:
    """Follows the chosen person when everyone's keypoints are given (OpenPose): matching, no detecting.

    Each frame, people are matched to the tracks of the previous frames, nearest first (in body sizes), among
    the plausible pairs (see :func:`~metaframe_video.prepare.track.plausible`); someone left over starts a track.
    """

    choice: str | int
    people: Callable[[Frame], list[Person]] | None = None  # where :meth:`follow` finds everyone in a frame
    forget_after: int = 45  # source frames after which a lost track is forgotten
    target: Track | None = None
    others: list[Track] = field(default_factory=list)
    most_seen: int = 0

    def follow(self, frame: Frame) -> Person | None:
        """:meth:`step` on a frame, with everyone in it from ``people``."""
        assert self.people is not None
        return self.step(frame.index, self.people(frame))

    def step(self, index: int, people: list[Person]) -> Person | None:
        """The chosen person among ``people`` (source frame ``index``), or None."""
        self.most_seen = max(self.most_seen, len(people))
        if self.target is None:
            chosen = choose(people, self.choice)
            if chosen is not None:
                self.target = Track.starting(chosen, index)
                self.others = [Track.starting(p, index) for p in people if p is not chosen]
            return chosen
        tracks = [self.target, *self.others]
        matched = _match(tracks, people, index)
        for k, person in enumerate(people):
            if k not in matched.values():
                self.others.append(Track.starting(person, index))
        for t, k in matched.items():
            tracks[t].see(people[k].box, index)
        self.others = [o for o in self.others if index - o.seen_at <= self.forget_after]
        return people[matched[0]] if 0 in matched else None


def _match(tracks: list[Track], people: list[Person], index: int) -> dict[int, int]:
    """Track index → person index, nearest plausible pairs first."""
    pairs = sorted(
        (float(np.linalg.norm(centre(p.box) - centre(t.box))) / t.scale, ti, pi)
        for ti, t in enumerate(tracks)
        for pi, p in enumerate(people)
        if plausible(p, t, index)
    )
    matched: dict[int, int] = {}
    for _, ti, pi in pairs:
        if ti not in matched and pi not in matched.values():
            matched[ti] = pi
    return matched

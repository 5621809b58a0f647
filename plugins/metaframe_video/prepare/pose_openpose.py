"""OpenPose JSON keypoints, the format most retargeting datasets ship: one JSON file per frame,
``{"people": [{"pose_keypoints_2d": [x, y, c, ...]}, ...]}``, mapped here to COCO-17. A missing keypoint
has c = 0.

Three layouts are read: OpenPose's COCO-18 (18 keypoints), BODY_25 and BODY_25B (25 each). The two
25-point layouts differ only in order, so which one a folder holds is recognized from the skeletons
themselves: read each way, the right one gives the shorter limbs (COCO-17's limbs, in units of each
person's size), because the wrong one joins points from across the body. Files may be named in any way
that carries the frame number (``frame_0012.json``, ``clip_000000000012_keypoints.json``: the last number
in the name).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metaframe.api import UsageError
from metaframe_video.keypoints import BODY25_TO_COCO17, BODY25B_TO_COCO17, COCO17_LIMBS, OPENPOSE18_TO_COCO17
from metaframe_video.prepare.boxes import Person, box_of, centre
from metaframe_video.prepare.sources import FolderSource, Frame, Source
from metaframe_video.prepare.track import Track, choose, plausible

# COCO-17 order (nose, left/right eye, ear, shoulder, elbow, wrist, hip, knee, ankle) picked from each layout.
LAYOUTS = {"COCO-18": OPENPOSE18_TO_COCO17, "BODY_25": BODY25_TO_COCO17, "BODY_25B": BODY25B_TO_COCO17}
BY_COUNT = {18: ("COCO-18",), 25: ("BODY_25", "BODY_25B")}
EXPECTED = "expected 18 (OpenPose COCO-18) or 25 (BODY_25, BODY_25B), each as x, y, c"
SAMPLED_FILES = 25  # files read to recognize a folder's layout, spread over it


def read_people(path: Path, layout: str | None = None) -> list[Person]:
    """Everyone in one OpenPose JSON file, as COCO-17; ``layout`` None: recognized from this file alone.

    A file of the wrong shape, or of a layout that cannot be told, is a UsageError.
    """
    people = read_points(path)
    layout = layout or recognize(people, str(path))
    return [person for points in people if (person := to_person(points, layout)) is not None]


def read_points(path: Path) -> list[np.ndarray]:
    """Each person's keypoints in one file, as P×3 arrays in the file's own layout."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"cannot read {path} as JSON ({error}); expected OpenPose output") from None
    people = data.get("people") if isinstance(data, dict) else None
    if not isinstance(people, list):
        raise UsageError(f'{path} has no "people" list; expected OpenPose output {{"people": [...]}}')
    return [_points(path, k, entry) for k, entry in enumerate(people)]


def _points(path: Path, k: int, entry: Any) -> np.ndarray:
    """One person entry's keypoints; a layout that is not one of :data:`LAYOUTS` is named by its count."""
    flat = entry.get("pose_keypoints_2d") if isinstance(entry, dict) else None
    if not isinstance(flat, list) or not all(isinstance(v, (int, float)) for v in flat):
        raise UsageError(f"{path}: person {k} has pose_keypoints_2d of {_describe(flat)}; {EXPECTED}")
    if len(flat) % 3 or len(flat) // 3 not in BY_COUNT:
        count = f"{len(flat) // 3} keypoints ({len(flat)} numbers)" if len(flat) % 3 == 0 else f"{len(flat)} numbers"
        raise UsageError(f"{path}: person {k} has {count}, a layout metaframe does not know; {EXPECTED}")
    return np.asarray(flat, dtype=np.float32).reshape(-1, 3)


def to_person(points: np.ndarray, layout: str) -> Person | None:
    """One person's keypoints in ``layout`` as a COCO-17 :class:`Person` (None if none was found)."""
    coco = points[list(LAYOUTS[layout])].copy()
    found = coco[:, 2] > 0
    if not found.any():
        return None
    coco[~found] = 0.0
    return Person(keypoints=coco, box=box_of(coco[found, :2]))


def recognize(people: list[np.ndarray], where: str) -> str:
    """The layout of these people's keypoints (all must have the same count); ``where`` names them in errors."""
    counts = sorted({len(points) for points in people})
    if len(counts) > 1:
        raise UsageError(f"{where} mixes layouts ({' and '.join(map(str, counts))} keypoints); give one layout")
    candidates = BY_COUNT[counts[0]] if counts else BY_COUNT[18]
    if len(candidates) == 1 or not people:
        return candidates[0]
    spread = {layout: limb_spread(people, layout) for layout in candidates}
    if any(np.isnan(value) for value in spread.values()):
        raise UsageError(
            f"{where}: cannot tell BODY_25 from BODY_25B (25 keypoints): no person shows both ends of a limb"
        )
    return min(spread, key=spread.__getitem__)


def limb_spread(people: list[np.ndarray], layout: str) -> float:
    """The median over people of their mean COCO-17 limb length, in units of their size, read in ``layout``."""
    values = []
    for points in people:
        coco = points[list(LAYOUTS[layout])]
        found = coco[:, 2] > 0
        limbs = [(a, b) for a, b in COCO17_LIMBS if found[a] and found[b]]
        if not limbs or found.sum() < 2:
            continue
        extent = np.ptp(coco[found, :2], axis=0).max()
        lengths = [np.linalg.norm(coco[a, :2] - coco[b, :2]) for a, b in limbs]
        values.append(float(np.mean(lengths)) / max(float(extent), 1e-6))
    return float(np.median(values)) if values else float("nan")


def _describe(value: Any) -> str:
    """What was found instead of a list of numbers, for the error message."""
    if not isinstance(value, list):
        return "type " + type(value).__name__
    return f"{len(value)} numbers" if all(isinstance(v, (int, float)) for v in value) else "non-numbers"


def frame_number(path: Path) -> int | None:
    """The frame number a file's name carries: the last number in it (None if there is none)."""
    numbers = re.findall(r"\d+", path.name.removesuffix(path.suffix))
    return int(numbers[-1]) if numbers else None


class OpenPoseFolder:
    """The keypoint files of one source (any ``.json`` whose name carries a frame number), matched to its
    frames by that number or, when the frames' names do not carry the same numbers, by order."""

    def __init__(self, folder: Path, source: Source) -> None:
        if not folder.is_dir():
            raise UsageError(f"--keypoints {folder} is not a folder; give the folder of OpenPose JSON files")
        self.folder = folder
        self.files = numbered_files(folder)
        frames = [frame_number(p) for p in source.files] if isinstance(source, FolderSource) else []
        self.by_number = {frame_number(p): p for p in self.files}
        self.by_name: dict[str, Path] | None = None
        if frames and all(number in self.by_number for number in frames):
            self.by_name = {p.stem: self.by_number[frame_number(p)] for p in source.files}  # type: ignore[union-attr]
        elif source.count is not None and source.count != len(self.files):
            raise UsageError(
                f"{folder} has {len(self.files)} keypoint files for {source.count} frames of {source.path}; "
                f"give one JSON file per frame, named with its frame number"
            )
        self.layout = self.recognize()

    def recognize(self) -> str:
        """The folder's layout, from the people in up to :data:`SAMPLED_FILES` files spread over it."""
        picks = np.linspace(0, len(self.files) - 1, min(len(self.files), SAMPLED_FILES)).round().astype(int)
        people = [points for i in sorted(set(picks.tolist())) for points in read_points(self.files[i])]
        return recognize(people, str(self.folder))

    def people(self, frame: Frame) -> list[Person]:
        """Everyone in one frame."""
        if self.by_name is not None and frame.name is not None:
            return read_people(self.by_name[frame.name], self.layout)
        if frame.index >= len(self.files):
            raise UsageError(f"{self.folder} has no keypoint file for frame {frame.index}; give one per frame")
        return read_people(self.files[frame.index], self.layout)


def numbered_files(folder: Path) -> list[Path]:
    """The folder's JSON files that carry a frame number, in frame order; two for one frame is an error."""
    files = sorted((p for p in folder.glob("*.json") if frame_number(p) is not None), key=frame_number)  # type: ignore[arg-type, return-value]
    if not files:
        raise UsageError(
            f"{folder} holds no JSON files named with a frame number; give the folder OpenPose wrote (--write_json)"
        )
    for before, after in zip(files, files[1:]):
        if frame_number(before) == frame_number(after):
            raise UsageError(
                f"{folder}: {before.name} and {after.name} are both frame {frame_number(after)}; keep one per frame"
            )
    return files


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

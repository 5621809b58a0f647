"""The DeepMimic motion-capture clips that ship inside the ``pybullet`` wheel, resampled to video time.

Each clip file (``pybullet_data/data/motions/humanoid3d_NAME.txt``) is JSON with a list of key frames;
a key frame is ``[duration, root position (3), root orientation (w, x, y, z), joints...]`` where the
joints come in DeepMimic's order (:data:`JOINTS`): spherical joints as (w, x, y, z) quaternions, knees
and elbows as one angle. The world is y-up and the character faces +x with its right side towards +z.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# (name, URDF joint index of DeepMimic's humanoid.urdf, degrees of freedom in the clip file)
JOINTS = (
    ("chest", 1, 4),
    ("neck", 2, 4),
    ("right_hip", 3, 4),
    ("right_knee", 4, 1),
    ("right_ankle", 5, 4),
    ("right_shoulder", 6, 4),
    ("right_elbow", 7, 1),
    ("left_hip", 9, 4),
    ("left_knee", 10, 1),
    ("left_ankle", 11, 4),
    ("left_shoulder", 12, 4),
    ("left_elbow", 13, 1),
)
CLIPS = (
    "backflip",
    "cartwheel",
    "crawl",
    "dance_a",
    "dance_b",
    "getup_facedown",
    "getup_faceup",
    "jump",
    "kick",
    "punch",
    "roll",
    "run",
    "spin",
    "spinkick",
    "walk",
)


@dataclass(frozen=True)
class Pose:
    """The humanoid's pose at one instant, ready for pybullet (quaternions in x, y, z, w order).

    :param root_height: height of the root (pelvis) above the ground; horizontal root motion is dropped,
        as a crop that follows the person would.
    :param root_orientation: the root's world orientation.
    :param joints: per entry of :data:`JOINTS`, a quaternion or a one-element angle list.
    """

    root_height: float
    root_orientation: tuple[float, ...]
    joints: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class Clip:
    """One motion-capture clip: key frames and their start times (seconds)."""

    name: str
    times: np.ndarray
    frames: np.ndarray

    @property
    def duration(self) -> float:
        """Length of the clip in seconds (up to its last key frame)."""
        return float(self.times[-1])

    def pose_at(self, t: float) -> Pose:
        """The pose at time ``t`` seconds (clamped to the clip), interpolated between key frames."""
        t = min(max(t, 0.0), self.duration)
        i = int(np.searchsorted(self.times, t, side="right") - 1)
        i = min(i, len(self.frames) - 2)
        fraction = (t - self.times[i]) / max(self.times[i + 1] - self.times[i], 1e-9)
        return frame_to_pose(interpolate(self.frames[i], self.frames[i + 1], fraction))


def motions_folder() -> Path:
    """The folder of the clip files inside the installed ``pybullet_data``."""
    import pybullet_data

    return Path(pybullet_data.getDataPath()) / "data" / "motions"


@functools.cache
def load_clip(name: str) -> Clip:
    """Read clip ``name`` (one of :data:`CLIPS`) from ``pybullet_data``."""
    data = json.loads((motions_folder() / f"humanoid3d_{name}.txt").read_text())
    frames = np.asarray(data["Frames"], dtype=np.float64)
    times = np.concatenate([[0.0], np.cumsum(frames[:-1, 0])])
    return Clip(name, times, frames)


def interpolate(a: np.ndarray, b: np.ndarray, fraction: float) -> np.ndarray:
    """Blend two key frames: positions and angles linearly, quaternions by normalized lerp."""
    out = a + fraction * (b - a)
    for start in quaternion_offsets():
        qa, qb = a[start : start + 4], b[start : start + 4]
        qb = qb if np.dot(qa, qb) >= 0 else -qb  # take the short way round
        q = qa + fraction * (qb - qa)
        out[start : start + 4] = q / np.linalg.norm(q)
    return out


@functools.cache
def quaternion_offsets() -> tuple[int, ...]:
    """Where each quaternion (root orientation and spherical joints) starts inside a key frame."""
    offsets, position = [4], 8
    for _, _, dof in JOINTS:
        if dof == 4:
            offsets.append(position)
        position += dof
    return tuple(offsets)


def frame_to_pose(frame: np.ndarray) -> Pose:
    """Convert one key frame (DeepMimic's w-first quaternions) to a :class:`Pose`."""
    joints, position = [], 8
    for _, _, dof in JOINTS:
        values = frame[position : position + dof]
        joints.append(xyzw(values) if dof == 4 else (float(values[0]),))
        position += dof
    return Pose(float(frame[2]), xyzw(frame[4:8]), tuple(joints))


def xyzw(wxyz: np.ndarray) -> tuple[float, ...]:
    """Reorder a (w, x, y, z) quaternion to pybullet's (x, y, z, w)."""
    return (float(wxyz[1]), float(wxyz[2]), float(wxyz[3]), float(wxyz[0]))


def timeline(clips: list[str], frames: int, fps: float, speed: float, start: float) -> list[tuple[str, float]]:
    """The (clip, time) shown at each of ``frames`` video frames.

    The clips play one after the other from ``start`` seconds into the first, at ``speed`` times real
    time, and cycle until the video is long enough (each wrap is a cut, as in an edited dance video).
    """
    schedule, which, t = [], 0, start
    for _ in range(frames):
        clip = load_clip(clips[which])
        if t > clip.duration:
            which, t = (which + 1) % len(clips), 0.0
            clip = load_clip(clips[which])
        schedule.append((clip.name, t))
        t += speed / fps
    return schedule

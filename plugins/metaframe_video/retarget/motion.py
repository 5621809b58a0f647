"""A source's motion as the video-shot task's model inputs, one per source frame.

In order: frames where no pose was found take the last pose before them (the first pose found, for
frames before it), so the output keeps every source frame; the keypoints are smoothed over time
(:mod:`.smooth`); then carried into the target's frame (:mod:`.normalize`). Pose images are rendered
only when the renderer asks for a stretch of frames, so a long source never sits in memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from metaframe.api import Batch, UsageError
from metaframe_video.contact_sheet import draw_skeleton
from metaframe_video.retarget.contract import Footage, Motion
from metaframe_video.retarget.footage import Clip, open_clip
from metaframe_video.retarget.normalize import carry, stance
from metaframe_video.retarget.smooth import RADIUS, SIGMA, smooth
from metaframe_video.task import pose
from metaframe_video.task.video_shot import VideoShotTasks

DEFAULT_FPS = 30.0  # a folder of frames records no rate
FILLED_WITH = "the last pose before it (the first pose found, for frames before it)"


class SourceMotion(Motion):
    """The keypoints to render (already filled, smoothed and normalized) and the source clip they came from."""

    def __init__(self, clip: Clip, keypoints: np.ndarray, options: Any, report: dict[str, Any]) -> None:
        self.clip, self.keypoints, self.options, self.report = clip, keypoints, options, report
        self.fps = clip.fps or DEFAULT_FPS

    def __len__(self) -> int:
        return len(self.clip)

    def poses(self, start: int, stop: int) -> Batch:
        """Pose images and keypoints of frames ``start`` … ``stop - 1``, as the task makes them for training."""
        keypoints = self.keypoints[start:stop]
        heat = pose.render(keypoints, self.options.size, self.options.sigma, self.options.limbs)
        return {"pose": heat, "keypoints": torch.from_numpy(np.ascontiguousarray(keypoints))}

    def pictures(self, start: int, stop: int) -> tuple[Tensor, Tensor]:
        """The source frames and the skeletons given to the model (drawn on black)."""
        frames = self.clip.frames(list(range(start, stop)))
        black = np.zeros_like(frames[0])
        drawn = np.stack([draw_skeleton(black, points) for points in self.keypoints[start:stop]])
        return torch.from_numpy(frames), torch.from_numpy(drawn)


def source_motion(tasks: VideoShotTasks, source: Footage, target: Footage, smooth_: bool, normalize: bool) -> Motion:
    """The motion of the person in ``source``, ready to render as the person in ``target``."""
    clip = open_clip(source, tasks.options, "source")
    keypoints, missing = fill_missing(clip, source.spec)
    report: dict[str, Any] = {
        "source_frames": len(clip),
        "frames_without_pose": int(missing),
        "filled_with": FILLED_WITH if missing else None,
        "fps_recorded": clip.fps is not None,
    }
    if smooth_:
        keypoints = smooth(keypoints, clip.shots)
    report["smoothing"] = f"Gaussian over time, sigma {SIGMA:g} frame, {RADIUS} frames each side" if smooth_ else None
    report["normalization"] = None
    if normalize:
        goal = open_clip(target, tasks.options, "target")
        frames = goal.keypoints[goal.posed()]
        source_stance = stance(keypoints, f"the source {source.spec}")
        target_stance = stance(frames, f"the target {target.spec}")
        keypoints = carry(keypoints, source_stance, target_stance)
        report["normalization"] = {"source": source_stance.to_json(), "target": target_stance.to_json()}
    return SourceMotion(clip, keypoints, tasks.options, report)


def fill_missing(clip: Clip, spec: str) -> tuple[np.ndarray, int]:
    """The clip's keypoints with every frame without a pose given :data:`FILLED_WITH`; and how many there were."""
    posed = clip.posed()
    if not posed.any():
        raise UsageError(f"no person found in the source {spec}: none of its {len(clip)} frames has a pose")
    last = np.maximum.accumulate(np.where(posed, np.arange(len(clip)), -1))  # the latest posed frame so far
    last[last < 0] = np.flatnonzero(posed)[0]
    return clip.keypoints[last], int((~posed).sum())

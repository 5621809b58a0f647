"""The ``video-shot`` task as it is registered: its few-shot tasks, and a person and a motion read from
footage outside its dataset (capability ``footage``, what ``metaframe retarget`` needs).

The reading lives here, above the task, so that the task itself (:mod:`metaframe_video.task`) never
imports retargeting: the dependency goes one way.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from metaframe.api import Batch, Capability, to_uint8
from metaframe_video.contact_sheet import draw_skeleton
from metaframe_video.retarget.contract import FOOTAGE, Footage, Motion
from metaframe_video.retarget.footage import target_examples
from metaframe_video.retarget.motion import source_motion
from metaframe_video.task.video_shot import VideoShotOptions, VideoShotTasks


class FootageShotTasks(VideoShotTasks):
    """Video-shot tasks that also read a target person and a source motion from footage."""

    capabilities = frozenset({Capability.SHOW, FOOTAGE})

    def target_examples(self, target: Footage, k: int | None) -> Batch:
        """K frames of the person in ``target`` (a video, photos, a dataset, synthetic:DANCER) to personalize on."""
        return target_examples(self, target, k)

    def source_motion(self, source: Footage, target: Footage, smooth: bool = True, normalize: bool = True) -> Motion:
        """The motion of the person in ``source``, one pose per frame, carried into ``target``'s frame."""
        return source_motion(self, source, target, smooth, normalize)

    def target_pictures(self, support: Batch) -> Tensor:
        """The support frames with the skeletons found in them drawn on (uint8 K×S×S×3): where pose
        estimation failed, it shows."""
        frames = to_uint8(support["image"]).numpy()
        drawn = [draw_skeleton(frame, points) for frame, points in zip(frames, support["keypoints"].numpy())]
        return torch.from_numpy(np.stack(drawn))


def build(options: VideoShotOptions, k: int) -> FootageShotTasks:
    """One shot of one person's video: K (pose, frame) pairs to personalize on, later frames to score."""
    return FootageShotTasks(options, k)

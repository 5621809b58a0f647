"""What the warp-and-refine generator reads besides the pose: the warp of the support frames onto it.

For a new pose (eval's queries, retarget's source frames) the warp is of the task's support frames, kept
by :meth:`WarpInput.set_support`. For a frame being trained on, it is of the *other* frames of its batch
(leave-one-out): during personalization each support frame is predicted from the other K − 1, so the T
steps teach the network this person's silhouette, clothes, lighting and background without ever letting
it copy the frame it draws. A batch of one distinct frame (K = 1, one photo) has no other frame: the
photo mirrored left to right, its keypoints mirrored and their sides swapped, stands in for it. The
other frames are cut into parts without the frame being drawn (its background plate included), so
nothing of a frame's own pixels reaches its input.

The warp involves no weights, and personalization draws the same support frames at every step, so the
last batch's warp is kept and reused while its frames are the same.
"""

from __future__ import annotations

import torch
from torch import Tensor

from metaframe.api import Batch
from metaframe_pose2im.warp import SupportParts, heatmap_keypoints

MIRROR = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)  # COCO-17 with left and right swapped


def mirrored(images: Tensor, keypoints: Tensor) -> tuple[Tensor, Tensor]:
    """Frames flipped left to right and their keypoints moved and relabelled to match."""
    flipped = keypoints[:, list(MIRROR)].clone()
    flipped[..., 0] = images.shape[-1] - flipped[..., 0]
    return images.flip(-1), flipped


SAME_SCENE = 0.02  # median absolute difference (frames in [-1, 1]) under which two frames share their scene


def leave_one_out(images: Tensor) -> Tensor:
    """B×B: which frames of the batch may serve each frame: those of the same scene (most of their pixels
    equal: one video's background, so one person), but not the frame itself or its copies. A batch that
    joins several tasks (``pretrain`` with a meta-batch) thus never warps one person onto another."""
    difference = (images[:, None] - images[None]).abs()
    same_frame = difference.flatten(2).amax(2) == 0
    same_scene = difference.mean(2).flatten(2).median(2).values < SAME_SCENE
    return same_scene & ~same_frame


def fingerprint(*tensors: Tensor) -> tuple:
    """A cheap key that changes when any value of ``tensors`` does (shapes, and two weighted sums each)."""
    key: list = []
    for tensor in tensors:
        flat = tensor.detach().float().flatten()
        ramp = torch.linspace(-1, 1, len(flat), device=flat.device)
        key += [tuple(tensor.shape), flat.sum().item(), (flat * ramp).sum().item()]
    return tuple(key)


class WarpInput:
    """The warp channels of any pose: from the task's support frames, or leave-one-out within a batch."""

    def __init__(self) -> None:
        self.parts: SupportParts | None = None
        self.cached: tuple[tuple, Tensor] | None = None

    def set_support(self, support: Batch) -> None:
        """Keep the task's support frames cut into parts (their own keypoints when the batch holds them)."""
        keypoints = support.get("keypoints")
        keypoints = heatmap_keypoints(support["pose"]) if keypoints is None else keypoints.to(support["image"])
        with torch.no_grad():
            self.parts = SupportParts(support["image"], keypoints)

    @torch.no_grad()
    def channels(self, pose: Tensor, real: Tensor | None = None) -> Tensor:
        """B×8×S×S warp channels for ``pose``: from the support (``real`` None), else leave-one-out."""
        if real is None:
            if self.parts is None:
                raise RuntimeError("the warp-and-refine generator draws only after set_support (adapt calls it)")
            return self.parts.warp(heatmap_keypoints(pose)).channels().to(pose.dtype)
        key = fingerprint(pose, real)
        if self.cached is None or self.cached[0] != key:
            self.cached = (key, self.within_batch(pose, real))
        return self.cached[1]

    def within_batch(self, pose: Tensor, real: Tensor) -> Tensor:
        """Each frame of a training batch warped from the batch's other frames, or from its mirror image
        when it has none. The others are cut into parts without it, plate included, so nothing of a
        frame's own pixels reaches its input."""
        keypoints = heatmap_keypoints(pose)
        use = leave_one_out(real)
        drawn = []
        for i, others in enumerate(use):
            if bool(others.any()):
                parts = SupportParts(real[others], keypoints[others])
            else:
                parts = SupportParts(*mirrored(real[i : i + 1].float(), keypoints[i : i + 1]))
            drawn.append(parts.warp(keypoints[i : i + 1]).channels())
        return torch.cat(drawn).to(pose.dtype)

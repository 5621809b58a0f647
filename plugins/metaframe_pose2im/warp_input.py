"""What the warp-and-refine generator reads besides the pose: the warp of the support frames onto it.

For a new pose (eval's queries, retarget's source frames) the warp is of the task's support frames, kept
by :meth:`WarpInput.set_support`. For a frame being trained on, it is of the *other* frames of its batch
(leave-one-out): during personalization each support frame is predicted from the other K − 1, so the T
steps teach the network this person's silhouette, clothes, lighting and background without ever letting
it copy the frame it draws. A batch of one distinct frame (K = 1, one photo) has no other frame: a copy
of the photo moved by a small random similarity (turned, scaled, shifted; its keypoints moved alike),
new at every step, stands in for it, so the network learns to mend the warp's resampling and edges on
this person rather than to copy. (The photo's mirror image, tried first, lost 0.05 person-box SSIM on
the validation dancers: a mirrored person is another person.) The other frames are cut into parts
without the frame being drawn (its background plate included), so nothing of a frame's own pixels
reaches its input.

The warp involves no weights, and personalization draws the same support frames at every step, so the
last batch's leave-one-out warp is kept and reused while its frames are the same.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from metaframe.api import Batch
from metaframe_pose2im.warp import SupportParts, heatmap_keypoints

TURN, RESCALE, SHIFT = 0.14, 0.08, 0.04  # the moved copy's largest turn (radians), scale change, shift (share of size)


def moved_copy(images: Tensor, keypoints: Tensor) -> tuple[Tensor, Tensor]:
    """One frame (1×3×S×S) moved by a random similarity about its centre, from torch's generator, and its
    keypoints (1×17×3) moved alike; the frame's edges are stretched into what it uncovers."""
    size = images.shape[-1]
    turn, change = ((2 * torch.rand(2) - 1) * torch.tensor([TURN, RESCALE])).tolist()
    shift = (2 * torch.rand(2) - 1) * SHIFT * size
    cos, sin = math.cos(turn) * (1 + change), math.sin(turn) * (1 + change)
    forward = torch.tensor([[cos, -sin], [sin, cos]])
    centre = torch.full((2,), size / 2)
    moved = keypoints.clone()
    moved[..., :2] = (keypoints[..., :2] - centre.to(keypoints)) @ forward.T.to(keypoints) + (centre + shift).to(
        keypoints
    )
    backward = torch.linalg.inv(forward)  # grid_sample reads each output pixel from where it came from
    theta = torch.cat([backward, (-(backward @ shift) * 2 / size)[:, None]], dim=1)[None].to(images)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False), moved


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
        if self.cached is not None and self.cached[0] == key:
            return self.cached[1]
        use = leave_one_out(real)
        drawn = self.within_batch(pose, real, use)
        if bool(use.any()):  # one photo alone gets a new moved copy at every step: nothing to keep
            self.cached = (key, drawn)
        return drawn

    def within_batch(self, pose: Tensor, real: Tensor, use: Tensor) -> Tensor:
        """Each frame of a training batch warped from the batch's other frames, or from a moved copy of
        itself when it has none (``use``: :func:`leave_one_out` of ``real``). The others are cut into parts
        without it, plate included, so nothing of a frame's own pixels reaches its input."""
        keypoints = heatmap_keypoints(pose)
        drawn = []
        for i, others in enumerate(use):
            if bool(others.any()):
                parts = SupportParts(real[others], keypoints[others])
            else:
                parts = SupportParts(*moved_copy(real[i : i + 1].float(), keypoints[i : i + 1]))
            drawn.append(parts.warp(keypoints[i : i + 1]).channels())
        return torch.cat(drawn).to(pose.dtype)

"""What a reference-conditioned generator sees of the person besides the pose: the support frames.

Few-shot generators (few-shot vid2vid, MetaPix's successors) do not ask the weights alone to remember a
new person's background and clothes after T steps; they also look at the K support frames. Two views
of them are built here, from poses and frames only:

* the **background plate**: the mean of the support frames with each frame's person masked out, so
  every pixel that any support frame shows without the person is the true background;
* the **nearest frame**: the support frame whose pose is closest to the pose being drawn, the best
  single picture of that person's clothes and skin in a similar posture.

During personalization a support frame's own views are built from the *other* support frames
(leave-one-out), exactly as a query frame's are built from all of them, so the generator never learns
to copy the frame it is asked to draw.
"""

from __future__ import annotations

import torch
from torch import Tensor

from metaframe_pose2im.references import keypoint_distances

VISIBLE = 0.3  # a heatmap channel whose peak is below this is a keypoint the pose does not show
PERSON_PAD = 0.25  # the plate's person mask: the keypoints' box grown by this share of its height
HEAD_ROOM = 0.2  # COCO keypoints stop at the eyes and ears: grow the box upwards by this much more


def keypoints_of(pose: Tensor) -> Tensor:
    """B×J×3 keypoints (x, y in pixel centres, visibility 0/1) read off B×C×H×W heatmaps (first 17 channels
    at most, the keypoints; limb channels, if any, come after them)."""
    heat = pose[:, :17].flatten(2)
    peak, where = heat.max(dim=2)
    width = pose.shape[-1]
    x = (where % width).to(pose.dtype) + 0.5
    y = torch.div(where, width, rounding_mode="floor").to(pose.dtype) + 0.5
    return torch.stack([x, y, (peak > VISIBLE).to(pose.dtype)], dim=-1)


def person_boxes(keypoints: Tensor, pad: float, head_room: float, size: int) -> Tensor:
    """B×4 boxes (x0, y0, x1, y1) around each pose's visible keypoints, grown by ``pad`` of the box height
    on every side and ``head_room`` more above, clipped to the frame; a pose with no keypoint gets the frame."""
    visible = keypoints[..., 2] > 0
    big = torch.finfo(keypoints.dtype).max
    x, y = keypoints[..., 0], keypoints[..., 1]
    x0 = torch.where(visible, x, big).amin(1)
    y0 = torch.where(visible, y, big).amin(1)
    x1 = torch.where(visible, x, -big).amax(1)
    y1 = torch.where(visible, y, -big).amax(1)
    grow = (y1 - y0).clamp(min=size / 16) * pad
    box = torch.stack([x0 - grow, y0 - grow - (y1 - y0) * head_room, x1 + grow, y1 + grow], dim=1)
    box = box.clamp(0, size)
    empty = ~visible.any(1)
    box[empty] = torch.tensor([0.0, 0.0, size, size], dtype=box.dtype, device=box.device)
    return box


def box_masks(boxes: Tensor, size: int) -> Tensor:
    """B×1×S×S masks, 1 inside each box (pixel centres), 0 outside."""
    centres = torch.arange(size, device=boxes.device, dtype=boxes.dtype) + 0.5
    inside_x = (centres[None] >= boxes[:, 0:1]) & (centres[None] < boxes[:, 2:3])
    inside_y = (centres[None] >= boxes[:, 1:2]) & (centres[None] < boxes[:, 3:4])
    return (inside_y[:, :, None] & inside_x[:, None, :]).unsqueeze(1).to(boxes.dtype)


class Support:
    """The K support frames of one task, ready to give any pose its background plate and nearest frame."""

    def __init__(self, pose: Tensor, image: Tensor) -> None:
        size = image.shape[-1]
        self.image = image
        self.keypoints = keypoints_of(pose)
        self.open = 1 - box_masks(person_boxes(self.keypoints, PERSON_PAD, HEAD_ROOM, size), size)

    def views(self, pose: Tensor, real: Tensor | None = None) -> Tensor:
        """B×6×S×S: the background plate and the nearest support frame for each pose of ``pose``.

        ``real``: the frames being drawn, when known (training); a support frame equal to one of them
        is left out of that frame's views, unless it is the only support frame.
        """
        use = self.usable(real, len(pose))
        distance = keypoint_distances(keypoints_of(pose), self.keypoints).masked_fill(~use, float("inf"))
        nearest = self.image[distance.argmin(1)]
        used = use.to(self.image.dtype)
        weights = used[:, :, None, None, None] * self.open[None]  # B×K×1×S×S: usable and the person absent
        seen = weights.sum(1)
        plate = (weights * self.image[None]).sum(1) / seen.clamp(min=1)
        mean = torch.einsum("bk,kchw->bchw", used / used.sum(1, keepdim=True), self.image)  # where never seen
        return torch.cat([torch.where(seen > 0, plate, mean), nearest], dim=1)

    def usable(self, real: Tensor | None, count: int) -> Tensor:
        """B×K: which support frames may serve each drawn frame (all but the frame itself)."""
        k = len(self.image)
        if real is None or k == 1:
            return torch.ones(count, k, dtype=torch.bool, device=self.image.device)
        same = (real[:, None] - self.image[None]).abs().flatten(2).amax(2) == 0
        return ~same | same.all(1, keepdim=True)

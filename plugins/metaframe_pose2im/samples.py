"""Sample pictures: titled columns pose | generated | real, one row per frame.

The pose is drawn as a stick figure (read off the heatmaps' peaks), which the eye reads at once,
where a heatmap is a cloud of dots. Rows are the frames whose poses differ most from one another, so
the picture shows whether the model follows the pose.
"""

from __future__ import annotations

import colorsys

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import Tensor

from metaframe.api import to_uint8
from metaframe_pose2im.appearance import keypoints_of
from metaframe_pose2im.references import keypoint_distances

GAP = 2  # pixels of dark grey between panels, so frames of similar colour stay apart
GAP_COLOUR = 40
TITLE_HEIGHT = 14
TITLES = ("pose", "generated", "real")
# COCO-17 limbs (the keypoint channels come in COCO-17 order): arms, shoulders, torso, legs, face.
LIMBS = (
    (5, 7), (7, 9), (6, 8), (8, 10), (5, 6), (5, 11), (6, 12), (11, 12),
    (11, 13), (13, 15), (12, 14), (14, 16), (0, 1), (0, 2), (1, 3), (2, 4),
)  # fmt: skip


def palette(count: int) -> list[tuple[int, int, int]]:
    """``count`` distinct saturated colours (evenly spaced hues) as 0–255 RGB."""
    return [tuple(round(255 * c) for c in colorsys.hsv_to_rgb(i / count, 0.85, 1.0)) for i in range(count)]  # type: ignore[misc]


def stick_figure(keypoints: Tensor, size: int) -> np.ndarray:
    """A size×size×3 uint8 drawing of one pose's limbs and joints (J×3 keypoints) on black."""
    picture = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(picture)
    width = max(1, size // 64)
    points = keypoints.tolist()
    for (a, b), colour in zip(LIMBS, palette(len(LIMBS))):
        if a < len(points) and b < len(points) and points[a][2] > 0 and points[b][2] > 0:
            draw.line([tuple(points[a][:2]), tuple(points[b][:2])], fill=colour, width=width + 1)
    for x, y, visible in points:
        if visible > 0:
            draw.ellipse([x - width, y - width, x + width, y + width], fill=(255, 255, 255))
    return np.asarray(picture)


def most_different(keypoints: Tensor, rows: int) -> list[int]:
    """Up to ``rows`` frame indices whose poses differ most (farthest-point order from the first), in time order."""
    count = len(keypoints)
    if rows >= count:
        return list(range(count))
    distance = keypoint_distances(keypoints, keypoints).nan_to_num(0.0, posinf=0.0)
    chosen = [0]
    nearest = distance[0].clone()
    for _ in range(rows - 1):
        nearest[chosen] = -1
        pick = int(nearest.argmax())
        chosen.append(pick)
        nearest = torch.minimum(nearest, distance[pick])
    return sorted(chosen)


def title_strip(width: int, panel: int) -> np.ndarray:
    """The column titles over panels of side ``panel``."""
    strip = Image.new("RGB", (width, TITLE_HEIGHT), (GAP_COLOUR,) * 3)
    draw = ImageDraw.Draw(strip)
    for i, title in enumerate(TITLES):
        left = i * (panel + GAP)
        text = draw.textlength(title)
        draw.text((left + (panel - text) / 2, 1), title, fill=(235, 235, 235))
    return np.asarray(strip)


def sample_grid(pose: Tensor, fake: Tensor, real: Tensor) -> Tensor:
    """A uint8 H×W×3 picture: titles, then a row per frame of pose | generated | real, with thin gaps.

    :param pose: B×C×S×S heatmaps in [0, 1] (the first 17 channels COCO-17 keypoints).
    :param fake: B×3×S×S generated frames in [-1, 1].
    :param real: B×3×S×S real frames in [-1, 1].
    """
    size = pose.shape[-1]
    keypoints = keypoints_of(pose.detach().float().cpu())
    figures = np.stack([stick_figure(points, size) for points in keypoints])
    panels = [figures, to_uint8(fake).numpy(), to_uint8(real).numpy()]
    rows = [join([panel[i] for panel in panels], axis=1) for i in range(len(pose))]
    grid = join(rows, axis=0)
    return torch.from_numpy(np.ascontiguousarray(np.concatenate([title_strip(grid.shape[1], size), grid])))


def join(images: list[np.ndarray], axis: int) -> np.ndarray:
    """Concatenate H×W×3 uint8 images along ``axis`` (0: stacked, 1: side by side) with gaps between."""
    shape = list(images[0].shape)
    shape[axis] = GAP
    gap = np.full(shape, GAP_COLOUR, dtype=np.uint8)
    pieces = [piece for image in images for piece in (gap, image)][1:]
    return np.concatenate(pieces, axis=axis)

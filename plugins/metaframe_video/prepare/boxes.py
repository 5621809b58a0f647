"""Boxes and square crops in pixel coordinates, shared by the person follower and the cropper.

A box is a float array ``[x0, y0, x1, y1]``; a square is a box whose sides are equal. Squares may reach
past the image border: cropping pads them, so a person near the edge stays centred.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from metaframe.api import UsageError

OPENCV_MISSING = 'metaframe prepare needs the pose extra (MediaPipe and OpenCV): pip install "metaframe[pose]"'
HIDE_MARGIN = 0.12  # how much (of a person's size) around their box is greyed out to hide them


def opencv() -> ModuleType:
    """OpenCV, imported where it is used: it comes with the ``pose`` extra, not with metaframe itself."""
    try:
        import cv2  # noqa: PLC0415
    except ImportError:
        raise UsageError(OPENCV_MISSING) from None
    return cv2


@dataclass(frozen=True)
class Person:
    """One person in one frame.

    :param keypoints: float32 17×3 (x, y, score) in COCO-17 order, frame pixels; score 0 = missing.
    :param box: ``[x0, y0, x1, y1]`` around the person, frame pixels.
    """

    keypoints: np.ndarray
    box: np.ndarray

    def shifted(self, dx: float, dy: float) -> Person:
        """The same person with coordinates moved by (dx, dy) (from a crop's pixels to the frame's)."""
        offset = np.array([dx, dy], dtype=np.float32)
        keypoints = self.keypoints.copy()
        keypoints[:, :2] += offset
        return Person(keypoints=keypoints, box=self.box + np.tile(offset, 2))


def box_of(points: np.ndarray) -> np.ndarray:
    """The box around N×2 points."""
    return np.concatenate([points.min(axis=0), points.max(axis=0)]).astype(np.float64)


def size(box: np.ndarray) -> float:
    """The longer side of a box: a scale for the person that does not depend on where they stand."""
    return float(max(box[2] - box[0], box[3] - box[1], 1.0))


def centre(box: np.ndarray) -> np.ndarray:
    """The centre (x, y) of a box."""
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def area(box: np.ndarray) -> float:
    """The area of a box (0 if empty)."""
    return float(max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0))


def intersection(a: np.ndarray, b: np.ndarray) -> float:
    """The area two boxes share."""
    inner = np.concatenate([np.maximum(a[:2], b[:2]), np.minimum(a[2:], b[2:])])
    return area(inner)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boxes."""
    shared = intersection(a, b)
    return shared / max(area(a) + area(b) - shared, 1e-9)


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over the smaller box: 1 when one box holds the other (a partial view of one person)."""
    return intersection(a, b) / max(min(area(a), area(b)), 1e-9)


def square_around(box: np.ndarray, margin: float) -> np.ndarray:
    """The square centred on ``box`` whose side is the box's longer side plus ``margin`` of it on each side."""
    half = size(box) * (0.5 + margin)
    x, y = centre(box)
    return np.array([x - half, y - half, x + half, y + half])


def fit_square(square: np.ndarray, width: int, height: int) -> np.ndarray:
    """Move a square inside a width×height image where it fits, so crops need padding only when they must."""
    square = square.copy()
    for axis, limit in ((0, width), (1, height)):
        low, high = square[axis], square[axis + 2]
        if high - low <= limit:
            shift = -low if low < 0 else min(limit - high, 0.0)
        else:  # larger than the image: centre it, so the padding is even on both sides
            shift = (limit - (high - low)) / 2 - low
        square[[axis, axis + 2]] += shift
    return square


def crop_square(image: np.ndarray, square: np.ndarray, fill: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cut the integer square nearest ``square`` out of ``image``, padding with ``fill`` where it leaves it.

    :returns: the crop and its integer square ``[x0, y0, x1, y1]`` (the crop's origin in the image).
    """
    x0, y0 = (int(round(v)) for v in square[:2])
    side = max(int(round(square[2] - square[0])), 1)
    height, width = image.shape[:2]
    crop = np.full((side, side, image.shape[2]), fill, dtype=image.dtype)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x0 + side, width), min(y0 + side, height)
    if sx1 > sx0 and sy1 > sy0:
        crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return crop, np.array([x0, y0, x0 + side, y0 + side], dtype=np.float64)


def grow(box: np.ndarray, margin: float) -> np.ndarray:
    """The box widened by ``margin`` of its longer side on every side."""
    pad = size(box) * margin
    return box + np.array([-pad, -pad, pad, pad])


def paint_boxes(crop: np.ndarray, origin: np.ndarray, boxes: list[np.ndarray], keep: np.ndarray | None) -> None:
    """Grey out ``boxes`` (frame pixels) in a crop whose top-left is at ``origin``, except where ``keep`` is.

    Hiding the people we are not looking for is how a one-person detector is made to find someone else.
    Boxes are grown by ``HIDE_MARGIN`` first: a box through the landmarks stops at the eyes and wrists,
    and a head top or hand left showing is enough for the detector to report a phantom.
    """
    if not boxes:
        return
    original = crop.copy() if keep is not None else None
    for box in boxes:
        x0, y0, x1, y1 = _to_crop(grow(box, HIDE_MARGIN), origin, crop.shape)
        crop[y0:y1, x0:x1] = 127
    if keep is not None and original is not None:
        x0, y0, x1, y1 = _to_crop(grow(keep, HIDE_MARGIN), origin, crop.shape)
        crop[y0:y1, x0:x1] = original[y0:y1, x0:x1]


def _to_crop(box: np.ndarray, origin: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """A frame box as clipped integer slice bounds of a crop."""
    height, width = shape[:2]
    x0, y0, x1, y1 = (int(round(v)) for v in (box - np.tile(origin[:2], 2)))
    return max(x0, 0), max(y0, 0), min(max(x1, 0), width), min(max(y1, 0), height)

"""Shot changes and the steady square crop of a shot.

A *cut* is a frame whose colours differ sharply from the frame before (the Bhattacharyya distance between
their HSV histograms is at least a threshold) *and* whose layout differs too (the correlation of the two
frames shrunk to 64×36 grey pixels, brightness and contrast normalized, is below ``SAME_LAYOUT``). The second
test keeps a camera's exposure swinging (the sun in the lens, a flash) from counting as a cut: the colours
change, the picture does not. Camera motion changes the layout a little but the colours hardly at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metaframe_video.prepare.boxes import crop_square, fit_square, opencv, square_around
from metaframe_video.prepare.boxes import size as box_size

SAME_LAYOUT = 0.5  # layout correlation above which two frames show the same scene, whatever their colours


@dataclass(frozen=True)
class Look:
    """What a frame looks like, for comparing it with the next: its colours and its layout."""

    colours: np.ndarray  # normalized 16×8×8 HSV histogram
    layout: np.ndarray  # 36×64 grey, zero mean, unit norm

    @classmethod
    def of(cls, image: np.ndarray) -> Look:
        """The look of an RGB image."""
        cv2 = opencv()
        step = max(1, min(image.shape[:2]) // 144)  # thin a big frame first: averaging all of it is slow
        small = cv2.resize(np.ascontiguousarray(image[::step, ::step]), (64, 36), interpolation=cv2.INTER_AREA)
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
        colours = cv2.calcHist([hsv], [0, 1, 2], None, [16, 8, 8], [0, 180, 0, 256, 0, 256])
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
        grey -= grey.mean()
        return cls(colours / max(float(colours.sum()), 1.0), grey / max(float(np.linalg.norm(grey)), 1e-6))

    def is_cut(self, before: Look, threshold: float) -> bool:
        """Whether this frame starts a new shot after ``before``."""
        cv2 = opencv()
        colour_change = float(cv2.compareHist(before.colours, self.colours, cv2.HISTCMP_BHATTACHARYYA))
        same_layout = float((before.layout * self.layout).sum())
        return colour_change >= threshold and same_layout < SAME_LAYOUT


def steady_square(boxes: list[np.ndarray], width: int, height: int, margin: float) -> np.ndarray:
    """One square for a whole shot: around everywhere the person goes, inside the frame where it fits.

    The square holds the union of the per-frame boxes plus ``margin`` of its side on each side, but shrinks
    towards that union (never into it) rather than reach past the frame, so black padding appears only
    when the person covers more than the frame's height (or width).
    """
    edges = np.stack(boxes)
    box = np.concatenate([edges[:, :2].min(axis=0), edges[:, 2:].max(axis=0)])
    square = square_around(box, margin)
    if square[2] - square[0] > min(width, height):
        side = max(min(width, height), box_size(box))
        square = square_around(box, (side / box_size(box) - 1) / 2)
    x0, y0, x1, _ = fit_square(square, width, height)
    side = np.floor(x1 - x0)  # whole pixels, so frames and keypoints are cut at exactly the same place
    return np.array([np.ceil(x0), np.ceil(y0), np.ceil(x0) + side, np.ceil(y0) + side])


def crop_to(image: np.ndarray, square: np.ndarray, size: int) -> np.ndarray:
    """The square of the image (padded with black beyond its border) resized to size×size."""
    cv2 = opencv()
    crop, _ = crop_square(image, square)
    shrinking = crop.shape[0] > size
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def keypoints_to(keypoints: np.ndarray, square: np.ndarray, size: int) -> np.ndarray:
    """Keypoints (frame pixels) in the pixels of the square's size×size crop; those outside it get score 0."""
    moved = keypoints.copy()
    moved[:, :2] = (keypoints[:, :2] - square[:2]) * (size / (square[2] - square[0]))
    outside = (moved[:, :2] < 0).any(axis=1) | (moved[:, :2] >= size).any(axis=1)
    moved[outside, 2] = 0.0
    return moved

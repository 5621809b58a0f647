"""Contact sheets: frames on a grid, COCO-17 skeletons drawn on them — the video plugin's one drawer.

``metaframe prepare`` leaves one in every dataset it writes, and ``python -m metaframe_video.preview``
draws one of any dataset; both draw with this module, so a skeleton looks the same in both. Colours
say the side of the body: the left side's limbs and keypoints are orange, the right side's blue, and
what spans both sides or neither (the face, the shoulder and hip lines) white. A keypoint scored
:data:`SURE` or less is drawn hollow: an unsure MediaPipe point, or a synthetic point hidden behind
the body (score 0.5). Keypoints with score 0 are missing and not drawn.

Drawing uses Pillow only, so a preview works without OpenCV (the ``pose`` extra).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from metaframe_video.keypoints import COCO17, COCO17_LIMBS

RGB = tuple[int, int, int]
LEFT: RGB = (255, 150, 0)
RIGHT: RGB = (0, 170, 255)
MIDDLE: RGB = (255, 255, 255)
SURE = 0.5  # keypoints scored at most this are drawn hollow
SUPERSAMPLE = 4  # skeletons are drawn this many times larger, then shrunk: smooth lines without OpenCV


def side_colour(*joints: int) -> RGB:
    """Orange for the left side, blue for the right, white for what spans both or neither."""
    names = " ".join(COCO17[j] for j in joints)
    if "left" in names and "right" not in names:
        return LEFT
    return RIGHT if "right" in names and "left" not in names else MIDDLE


def draw_skeleton(image: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """A copy of the S×S×3 uint8 ``image`` with the COCO-17 skeleton of ``keypoints`` (17×3, its pixels) drawn on."""
    height, width = image.shape[:2]
    overlay = skeleton_overlay(keypoints, width, height, line_width(height))
    picture = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).convert("RGBA")
    picture.alpha_composite(overlay)
    return np.asarray(picture.convert("RGB"))


def line_width(size: int) -> int:
    """Limb width in pixels: 1 on frames up to 191 pixels, 2 from 192, one more every 128 pixels."""
    return max(1, (size + 64) // 128)


def skeleton_overlay(keypoints: np.ndarray, width: int, height: int, thick: int) -> Image.Image:
    """The skeleton alone on a transparent RGBA layer of ``width``×``height``, anti-aliased by supersampling."""
    scale = SUPERSAMPLE
    layer = Image.new("RGBA", (width * scale, height * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    points = [(float(x) * scale, float(y) * scale) for x, y in keypoints[:, :2]]
    for a, b in COCO17_LIMBS:
        if keypoints[a, 2] > 0 and keypoints[b, 2] > 0:
            draw.line([points[a], points[b]], fill=side_colour(a, b), width=thick * scale)
    radius = (thick + 1) * scale
    for joint, ((x, y), score) in enumerate(zip(points, keypoints[:, 2])):
        if score > 0:
            box = [x - radius, y - radius, x + radius, y + radius]
            colour = side_colour(joint)
            outline = max(1, thick // 2) * scale
            draw.ellipse(box, fill=colour if score > SURE else None, outline=colour, width=outline)
    return layer.resize((width, height), Image.Resampling.BOX)  # the mean of each pixel's samples: no ringing


def caption(image: np.ndarray, text: str) -> np.ndarray:
    """A copy of ``image`` with ``text`` in its top-left corner, white on a black outline (readable anywhere)."""
    picture = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
    draw = ImageDraw.Draw(picture)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            draw.text((4 + dx, 3 + dy), text, fill=(0, 0, 0))
    draw.text((4, 3), text, fill=(255, 255, 255))
    return np.asarray(picture)


def grid(tiles: list[np.ndarray], columns: int) -> np.ndarray:
    """Equal-sized H×W×3 ``tiles`` in rows of ``columns``, left to right; the last row is filled with black."""
    height, width = tiles[0].shape[:2]
    rows = -(-len(tiles) // columns)
    sheet = np.zeros((rows * height, columns * width, 3), np.uint8)
    for k, tile in enumerate(tiles):
        row, column = divmod(k, columns)
        sheet[row * height : (row + 1) * height, column * width : (column + 1) * width] = tile
    return sheet


def save(sheet: np.ndarray, path: Path) -> None:
    """Write ``sheet`` as a 256-colour PNG: a quarter of the size of a full-colour one, and skeletons stay crisp."""
    image = Image.fromarray(sheet)
    image.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(path, optimize=True)

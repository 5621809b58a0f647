"""The contact sheet ``prepare`` leaves in a dataset: frames spread over the dataset, keypoints drawn on.

One look tells whether the same person is followed throughout and whether the keypoints sit on the body.
Left-side limbs are drawn orange, right-side ones blue, the head and the hip-to-hip and shoulder lines white;
keypoints with a low score are drawn hollow.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from metaframe_video.keypoints import COCO17, COCO17_LIMBS
from metaframe_video.prepare.boxes import opencv

LEFT, RIGHT, MIDDLE = (255, 150, 0), (0, 170, 255), (255, 255, 255)
SURE = 0.5  # keypoints scored below this are drawn hollow
TILE = 192  # pixels per frame on the sheet


@dataclass(frozen=True)
class Tile:
    """One frame of the sheet: the S×S frame, its COCO-17 keypoints in its pixels, and a caption."""

    image: np.ndarray
    keypoints: np.ndarray
    caption: str


def side_colour(*joints: int) -> tuple[int, int, int]:
    """Orange for the left side, blue for the right, white for what spans both or neither."""
    names = " ".join(COCO17[j] for j in joints)
    if "left" in names and "right" not in names:
        return LEFT
    return RIGHT if "right" in names and "left" not in names else MIDDLE


def draw_pose(image: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """A copy of ``image`` with the COCO-17 skeleton drawn on (keypoints with score 0 left out)."""
    cv2 = opencv()
    out = np.ascontiguousarray(image.copy())
    thick = max(1, round(image.shape[0] / 128))
    points = [tuple(int(round(v * 16)) for v in point[:2]) for point in keypoints]  # 4 bits of sub-pixel
    for a, b in COCO17_LIMBS:
        if keypoints[a, 2] > 0 and keypoints[b, 2] > 0:
            cv2.line(out, points[a], points[b], side_colour(a, b), thick, cv2.LINE_AA, shift=4)
    for joint, (point, score) in enumerate(zip(points, keypoints[:, 2], strict=True)):
        if score > 0:
            fill = -1 if score >= SURE else max(1, thick // 2)
            cv2.circle(out, point, (thick + 1) * 16, side_colour(joint), fill, cv2.LINE_AA, shift=4)
    return out


class SheetSampler:
    """Keeps the written frames at the chosen positions (counted over the whole dataset) for the sheet."""

    def __init__(self, positions: list[int]) -> None:
        self.positions = set(positions)
        self.seen = 0
        self.tiles: list[Tile] = []

    def offer(self, image: np.ndarray, keypoints: np.ndarray, caption: str) -> None:
        """One more written frame; kept if its position was chosen."""
        if self.seen in self.positions:
            self.tiles.append(Tile(image, keypoints, caption))
        self.seen += 1


def save_sheet(tiles: list[Tile], path: Path) -> None:
    """Write the contact sheet as a 256-colour PNG: a quarter of the size, and skeletons stay crisp."""
    image = Image.fromarray(contact_sheet(tiles))
    image.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(path, optimize=True)


def contact_sheet(tiles: list[Tile], columns: int = 4) -> np.ndarray:
    """The tiles on a grid, each with the skeleton drawn and its caption in the corner."""
    cv2 = opencv()
    rows = -(-len(tiles) // columns)
    sheet = np.zeros((rows * TILE, columns * TILE, 3), np.uint8)
    for k, tile in enumerate(tiles):
        scale = TILE / tile.image.shape[0]
        keypoints = tile.keypoints.copy()
        keypoints[:, :2] *= scale
        image = cv2.resize(tile.image, (TILE, TILE), interpolation=cv2.INTER_AREA)
        image = draw_pose(image, keypoints)
        for colour, thickness in (((0, 0, 0), 3), ((255, 255, 255), 1)):  # white on a black outline
            cv2.putText(image, tile.caption, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.35, colour, thickness, cv2.LINE_AA)
        row, column = divmod(k, columns)
        sheet[row * TILE : (row + 1) * TILE, column * TILE : (column + 1) * TILE] = image
    return sheet


def spread(total: int, count: int) -> list[int]:
    """``count`` positions spread evenly over ``range(total)`` (all of them if there are fewer)."""
    if total <= count:
        return list(range(total))
    return sorted({int(round(v)) for v in np.linspace(0, total - 1, count)})

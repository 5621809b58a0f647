"""The contact sheet ``prepare`` leaves in a dataset: frames spread over the dataset, keypoints drawn on.

One look tells whether the same person is followed throughout and whether the keypoints sit on the body.
The drawing (colours, hollow unsure keypoints) is :mod:`metaframe_video.contact_sheet`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from metaframe_video import contact_sheet

TILE = 192  # pixels per frame on the sheet
COLUMNS = 4


@dataclass(frozen=True)
class Tile:
    """One frame of the sheet: the S×S frame, its COCO-17 keypoints in its pixels, and a caption."""

    image: np.ndarray
    keypoints: np.ndarray
    caption: str


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
    """Write the tiles, resized to :data:`TILE` pixels with skeleton and caption, as a grid of :data:`COLUMNS`."""
    contact_sheet.save(contact_sheet.grid([drawn(tile) for tile in tiles], COLUMNS), path)


def drawn(tile: Tile) -> np.ndarray:
    """One tile at :data:`TILE` pixels, its skeleton drawn on and its caption in the corner."""
    scale = TILE / tile.image.shape[0]
    keypoints = tile.keypoints.copy()
    keypoints[:, :2] *= scale
    image = np.asarray(Image.fromarray(tile.image).resize((TILE, TILE), Image.Resampling.LANCZOS))
    return contact_sheet.caption(contact_sheet.draw_skeleton(image, keypoints), tile.caption)


def spread(total: int, count: int) -> list[int]:
    """``count`` positions spread evenly over ``range(total)`` (all of them if there are fewer)."""
    if total <= count:
        return list(range(total))
    return sorted({int(round(v)) for v in np.linspace(0, total - 1, count)})

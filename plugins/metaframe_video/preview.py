"""A contact sheet of a video dataset: a few frames per video, the keypoints drawn on one, and its pose image.

``python -m metaframe_video.preview OUT.png [--data DATASET_DIR] [--videos N] [--frames N]`` renders
the default synthetic dancers (from the cache) when no dataset is given; the picture in
``docs/explanation/synthetic-dancers.md`` is made this way.
"""

from __future__ import annotations

import argparse
import colorsys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from metaframe_video.dataset import frame_paths, read_frames, read_index, read_keypoints
from metaframe_video.keypoints import COCO17, COCO17_LIMBS
from metaframe_video.task import pose

# Left-side keypoints and limbs are drawn in warm colours, right-side ones in cool colours.
LEFT, RIGHT, CENTRE = (255, 170, 0), (0, 200, 255), (255, 255, 255)


def contact_sheet(root: Path, videos: list[dict], frames: int = 5) -> Image.Image:
    """One row per video: ``frames`` evenly spaced frames, the last with its skeleton, then its pose image."""
    rows = [video_row(root, video, frames) for video in videos]
    return Image.fromarray(np.concatenate(rows, axis=0))


def video_row(root: Path, video: dict, frames: int) -> np.ndarray:
    """The tiles of one video's row, side by side."""
    shot = video["shots"][0]
    paths = frame_paths(root, video, shot)
    keypoints = read_keypoints(root, video, shot, len(paths))
    indices = np.linspace(0, len(paths) - 1, frames).round().astype(int).tolist()
    images = list(read_frames(paths, indices))
    last = indices[-1]
    tiles = [*images, draw_skeleton(images[-1], keypoints[last]), pose_picture(keypoints[last], images[-1].shape[0])]
    return np.concatenate(tiles, axis=1)


def draw_skeleton(frame: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """``frame`` with its limbs and keypoints drawn on (hidden keypoints hollow)."""
    image = Image.fromarray(frame)
    draw = ImageDraw.Draw(image)
    for a, b in COCO17_LIMBS:
        if keypoints[a, 2] > 0 and keypoints[b, 2] > 0:
            draw.line([tuple(keypoints[a, :2]), tuple(keypoints[b, :2])], fill=side_color(a, b), width=1)
    for i, (x, y, score) in enumerate(keypoints):
        if score > 0:
            color = side_color(i, i)
            draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=color if score >= 1 else None, outline=color)
    return np.asarray(image)


def side_color(a: int, b: int) -> tuple[int, int, int]:
    """Colour of a keypoint or limb by the side of the body it is on."""
    names = COCO17[a] + COCO17[b]
    return LEFT if "left" in names and "right" not in names else RIGHT if "right" in names else CENTRE


def pose_picture(keypoints: np.ndarray, size: int) -> np.ndarray:
    """The pose image of one frame, each channel in its own hue (what the model is given)."""
    heat = pose.render(torch.from_numpy(keypoints[None]), size, limbs=True)[0].numpy()
    hues = np.array([colorsys.hsv_to_rgb(i / len(heat), 0.9, 1.0) for i in range(len(heat))], dtype=np.float32)
    picture = np.einsum("chw,cd->hwd", heat, hues).clip(0, 1)
    return (picture * 255).astype(np.uint8)


def main(argv: list[str] | None = None) -> None:
    """Write a contact sheet of a dataset (default: the synthetic dancers, rendered if needed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--data", type=Path, default=None, help="a dataset folder (default: synthetic dancers)")
    parser.add_argument("--videos", type=int, default=6, help="rows: training videos first, then held-out ones")
    parser.add_argument("--frames", type=int, default=5, help="frames per row")
    args = parser.parse_args(argv)
    if args.data is None:
        from metaframe_video.synthetic.world import SyntheticConfig, dataset_folder

        args.data = dataset_folder(SyntheticConfig())
    videos = read_index(args.data)["videos"]
    train = [v for v in videos if v.get("split") != "eval"]
    held_out = [v for v in videos if v.get("split") == "eval"]
    chosen = train[: args.videos - args.videos // 3] + held_out[: args.videos // 3]
    contact_sheet(args.data, chosen, args.frames).save(args.out, optimize=True)


if __name__ == "__main__":
    main()

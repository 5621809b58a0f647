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
from PIL import Image

from metaframe_video import contact_sheet
from metaframe_video.dataset import frame_paths, read_frames, read_index, read_keypoints
from metaframe_video.task import pose


def dataset_sheet(root: Path, videos: list[dict], frames: int = 5) -> np.ndarray:
    """One row per video: ``frames`` evenly spaced frames, the last with its skeleton, then its pose image."""
    tiles = [tile for video in videos for tile in video_tiles(root, video, frames)]
    return contact_sheet.grid(tiles, frames + 2)


def video_tiles(root: Path, video: dict, frames: int) -> list[np.ndarray]:
    """The tiles of one video's row, left to right."""
    shot = video["shots"][0]
    paths = frame_paths(root, video, shot)
    keypoints = read_keypoints(root, video, shot, len(paths))
    indices = np.linspace(0, len(paths) - 1, frames).round().astype(int).tolist()
    images = list(read_frames(paths, indices))
    last = indices[-1]
    skeleton = contact_sheet.draw_skeleton(images[-1], keypoints[last])
    return [*images, skeleton, pose_picture(keypoints[last], images[-1].shape[0])]


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
    Image.fromarray(dataset_sheet(args.data, chosen, args.frames)).save(args.out, optimize=True)


if __name__ == "__main__":
    main()

"""Fixtures of the documented-commands test: the files the docs name, made once per session.

A tiny trained run (the README's main job, substituted as every documented ``run`` is), a photo and a
48-frame clip cut from ``../shared/data/sports2d-demo.mp4``, a pix2pixHD checkpoint at the tiny scale
(random tensors with pix2pixHD's keys, as tests/pose2im/layouts.py derives them), a folder of frames
with their OpenPose JSON (a synthetic dancer), and a one-video dataset prepared from them.
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import av
import pytest
import torch

from metaframe.testing import run_cli
from metaframe_video.dataset import read_index, read_shot
from metaframe_video.synthetic.world import dataset_folder
from metaframe_video.task.video_shot import VideoShotOptions
from tests.docs.commands import FIXTURES, TINY_RUN, substitute
from tests.pose2im import layouts
from tests.retarget.conftest import write_frames, write_openpose

SPORTS2D = Path(__file__).parents[2].parent / "shared" / "data" / "sports2d-demo.mp4"
POSE_CHANNELS = 17  # video-shot's heatmaps without limbs: what a converted checkpoint must take
CLIP_FRAMES = range(60, 108)  # the man on the box and the woman walking past: two people, as --person 1 needs


def cut_clip(source: Path, out: Path, frames: range, width: int = 960) -> Path:
    """``frames`` of ``source``, scaled to ``width`` pixels wide, as an MPEG-4 file."""
    with av.open(str(source)) as video:
        images = [f.to_image() for f in itertools.islice(video.decode(video=0), frames.start, frames.stop)]
    height = round(images[0].height * width / images[0].width) // 2 * 2
    with av.open(str(out), "w") as container:
        stream = container.add_stream("mpeg4", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for image in images:
            frame = av.VideoFrame.from_image(image.resize((width, height)))
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return out


def photo(source: Path, out: Path, index: int = 40) -> Path:
    """Frame ``index`` of ``source`` as a JPEG: the photo docs/howto/retarget.md makes."""
    with av.open(str(source)) as video:
        next(itertools.islice(video.decode(video=0), index, None)).to_image().save(out)
    return out


def pix2pixhd_checkpoints(folder: Path) -> tuple[Path, Path]:
    """``latest_net_G.pth`` and ``latest_net_D.pth`` at the tiny scale (ngf = ndf = 8, 2 downsamplings,
    2 blocks, 2 discriminator layers at 2 scales), as pix2pixHD pickles them."""
    folder.mkdir(parents=True, exist_ok=True)
    generator = layouts.random_state(layouts.generator_keys(POSE_CHANNELS, 8, 2, 2), seed=1)
    discriminator = layouts.random_state(layouts.discriminator_keys(POSE_CHANNELS + 3, 8, 2, 2), seed=2)
    torch.save(generator, folder / "latest_net_G.pth")
    torch.save(discriminator, folder / "latest_net_D.pth")
    return folder / "latest_net_G.pth", folder / "latest_net_D.pth"


def dancer_footage(world: Path, folder: Path, name: str = "eval-000") -> tuple[Path, Path]:
    """A synthetic dancer's frames (``frames/``) and their OpenPose BODY_25 JSON (``openpose/``)."""
    video = next(v for v in read_index(world)["videos"] if v["id"] == name)
    shot = read_shot(world, video, video["shots"][0])
    return write_frames(folder / "frames", shot.frames), write_openpose(folder / "openpose", shot.keypoints)


@pytest.fixture(scope="session")
def docs_files(tmp_path_factory) -> dict[str, Path]:
    """Every kind of file :data:`~tests.docs.commands.FIXTURES` names, made once: kind → path."""
    folder = tmp_path_factory.mktemp("docs-files")
    run = folder / "tiny-run"
    args = substitute(["run", "reptile", "--model", "pose2im", "--task", "video-shot"])
    result = run_cli([*args, "--out", str(run)])
    assert result.exit_code == 0, result.stderr
    generator, discriminator = pix2pixhd_checkpoints(folder / "checkpoints")
    frames, openpose = dancer_footage(dataset_folder(VideoShotOptions(size=32).synthetic()), folder)
    dataset = folder / "dataset"
    result = run_cli(["prepare", str(frames), "--keypoints", str(openpose), "--out", str(dataset)])
    assert result.exit_code == 0, result.stderr
    return {
        "run": run,
        "photo": photo(SPORTS2D, folder / "photo.jpg"),
        "clip": cut_clip(SPORTS2D, folder / "clip.mp4", CLIP_FRAMES),
        "generator": generator,
        "discriminator": discriminator,
        "frames": frames,
        "openpose": openpose,
        "dataset": dataset,
    }


def furnish(workspace: Path, files: dict[str, Path], written: set[str], runs: set[str]) -> None:
    """Put in ``workspace`` the files the docs name (links) and a copy of the tiny run for each run folder
    in ``runs``, leaving out what a command of the page writes itself."""
    for kind, names in FIXTURES.items():
        for name in set(names) - written:
            (workspace / name).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(files[kind], workspace / name)
    for name in {TINY_RUN, *runs} - written:
        shutil.copytree(files["run"], workspace / name)

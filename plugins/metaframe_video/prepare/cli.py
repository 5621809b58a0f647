"""The ``metaframe prepare`` command (the work is done in :mod:`metaframe_video.prepare.pipeline`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from metaframe.api import UsageError
from metaframe_video.prepare.boxes import opencv
from metaframe_video.prepare.sources import Selection
from metaframe_video.prepare.track import LARGEST

HELP = "\n\n".join(
    (
        "Turn real videos into a video dataset: square frames of one person with their 2D keypoints.",
        "Each VIDEO is a video file or a folder of frames (png/jpg). Poses come from MediaPipe Pose (the `pose` "
        "extra: pip install 'metaframe\\[pose]', Python 3.12 or older) or, with --keypoints, from OpenPose JSON files.",
        "One person is followed through each shot; the others are ignored. Shots are found by colour changes, and "
        "each is cut with one steady square around the person. Frames without the person are dropped (or kept "
        "with --keep-lost). The dataset folder gets a contact_sheet.png to check by eye.",
        "Train on it with: metaframe run reptile --model pose2im --task video-shot --set task.data=DATASET_DIR",
    )
)
PERSON_HELP = (
    "Who to follow: 'largest' (the biggest on the first frame with anyone) or N (the N-th from the left, 0 first)."
)
KEYPOINTS_HELP = (
    "A folder of OpenPose JSON files (COCO-18, BODY_25 or BODY_25B), one per frame, each named with its frame "
    "number, used instead of MediaPipe. Give it once per VIDEO, in the same order."
)
CUT_HELP = "How much (0-1) the colours must change between two frames to start a new shot (the layout must too)."
SPLITS = ("train", "eval")


def prepare_command(
    videos: Annotated[list[Path], typer.Argument(metavar="VIDEO", help="Video files or folders of frames.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset folder to write (a dataset there is replaced).")],
    size: Annotated[int, typer.Option("--size", min=32, help="Side of the square frames, in pixels.")] = 256,
    person: Annotated[str, typer.Option("--person", help=PERSON_HELP)] = LARGEST,
    keypoints: Annotated[list[Path] | None, typer.Option("--keypoints", help=KEYPOINTS_HELP)] = None,
    start: Annotated[int, typer.Option("--start", min=0, help="First frame to read (0 = the first).")] = 0,
    max_frames: Annotated[
        int | None, typer.Option("--max-frames", min=1, help="Read at most this many frames.")
    ] = None,
    every: Annotated[int, typer.Option("--every", min=1, help="Read every N-th frame only.")] = 1,
    min_shot: Annotated[
        int, typer.Option("--min-shot", min=1, help="Skip shots with fewer frames of the person.")
    ] = 10,
    cut_threshold: Annotated[float, typer.Option("--cut-threshold", min=0.0, max=1.0, help=CUT_HELP)] = 0.3,
    margin: Annotated[
        float, typer.Option("--margin", min=0.0, max=2.0, help="Room around the person, in their size.")
    ] = 0.15,
    identity: Annotated[
        str | None, typer.Option("--identity", help="Who is in the videos (default: each video's name).")
    ] = None,
    split: Annotated[str | None, typer.Option("--split", help="Record the videos as 'train' or 'eval'.")] = None,
    keep_lost: Annotated[
        bool, typer.Option("--keep-lost", metavar="", help="Keep frames without the person (score-0 keypoints).")
    ] = False,
) -> None:
    """Turn real videos into a video dataset (frames + COCO-17 keypoints) for the video-shot task."""
    from metaframe_video.prepare.pipeline import PrepareOptions, prepare  # noqa: PLC0415 - keeps `metaframe --help` fast

    opencv()  # before anything is read or written: without the pose extra, say so in one line
    if split is not None and split not in SPLITS:
        raise UsageError(f"--split {split!r}: expected 'train' or 'eval'")
    options = PrepareOptions(
        size=size,
        person=parse_person(person),
        selection=Selection(start=start, every=every, max_frames=max_frames),
        min_shot=min_shot,
        cut_threshold=cut_threshold,
        margin=margin,
        identity=identity,
        split=split,
        keep_lost=keep_lost,
    )
    prepare(videos, out, options, keypoints or None)


def parse_person(text: str) -> str | int:
    """``largest`` or a non-negative index; anything else is a UsageError."""
    if text == LARGEST:
        return LARGEST
    if text.isdigit():
        return int(text)
    raise UsageError(f"--person {text!r}: expected 'largest' or a number (0 = the leftmost person)")


def register(cli: typer.Typer) -> None:
    """Add ``prepare`` to the ``metaframe`` command line (called from the plugin's ``register_commands``)."""
    cli.command("prepare", help=HELP, no_args_is_help=True)(prepare_command)

"""``metaframe retarget``: an MP4 of the target person performing the source's motion.

The command parses its options, calls :func:`metaframe_video.retarget.retargeting.retarget` (what a Python
caller calls as ``metaframe_video.retarget.retarget``) and prints the summary it returns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from metaframe.api import emit, say
from metaframe_video.retarget.retargeting import retarget

FOOTAGE_KINDS = "footage the run's task reads (e.g. a clip file, a folder of frames, one image; see the task's docs)"
TARGET_HELP = f"The person to show: {FOOTAGE_KINDS} (one image: K = 1)."
SOURCE_HELP = f"The motion to perform: {FOOTAGE_KINDS}. One output frame per source frame, at its frame rate."
OUT_HELP = (
    "The MP4 to write (default retarget-TARGET-SOURCE.mp4); its summary (.json) and contact sheet (.png) "
    "go beside it. An existing file is replaced only when the new one is complete."
)
KEYPOINTS_HELP = "A folder of keypoint files another tool wrote (one per frame), used instead of estimating the poses."
K_HELP = "Target frames to personalize on (default: the run's K, or all the target has if fewer)."
SEED_HELP = "Seeds personalization: equal seeds give equal results on the CPU (default: the run's seed)."
BESIDE_HELP = (
    "Also draw each frame with this predictor that learns nothing (e.g. warp: the target's frames moved part "
    "by part onto the pose), beside the result, to see what the model adds."
)
PERSON_HELP = "Who to follow when several people are in view: 'largest' or N (0 = the leftmost)."
# the options the core's commands share (metaframe.cli.options), written again: a plugin reads only metaframe.api
DEVICE_HELP = "Where to compute: auto (CUDA when present), cpu, cuda or cuda:N."
DeviceOption = Annotated[str | None, typer.Option("--device", help=DEVICE_HELP)]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", metavar="", help="No progress bars.")]


def number_option(name: str, help: str, minimum: int | None = 1) -> Any:
    """A typer option for a whole number (``N`` in ``--help``), at least ``minimum``."""
    return typer.Option(name, min=minimum, metavar="N", help=help)


def retarget_command(
    init: Path = typer.Option(..., "--init", help="The run folder of the model (and algorithm) to use."),
    target: str = typer.Option(..., "--target", help=TARGET_HELP),
    source: str = typer.Option(..., "--source", help=SOURCE_HELP),
    out: Path = typer.Option(None, "--out", "-o", help=OUT_HELP, dir_okay=False),
    k: Annotated[int | None, number_option("--k", K_HELP)] = None,
    t: Annotated[int | None, number_option("--t", "Personalization iterations (default: the run's T).")] = None,
    side_by_side: bool = typer.Option(False, "--side-by-side", metavar="", help="Write source | pose | result."),
    no_smooth: bool = typer.Option(False, "--no-smooth", metavar="", help="Keep the source's keypoints unsmoothed."),
    no_normalize: bool = typer.Option(
        False, "--no-normalize", metavar="", help="Keep the source's skeleton where it is, at its size."
    ),
    max_frames: int = typer.Option(None, "--max-frames", min=1, help="Use at most this many source frames."),
    target_keypoints: Path = typer.Option(None, "--target-keypoints", help=KEYPOINTS_HELP),
    source_keypoints: Path = typer.Option(None, "--source-keypoints", help=KEYPOINTS_HELP),
    target_person: str = typer.Option("largest", "--target-person", help=PERSON_HELP),
    source_person: str = typer.Option("largest", "--source-person", help=PERSON_HELP),
    seed: Annotated[int | None, number_option("--seed", SEED_HELP, minimum=None)] = None,
    beside: str = typer.Option(None, "--beside", metavar="REFERENCE", help=BESIDE_HELP),
    device: DeviceOption = None,
    quiet: QuietOption = False,
) -> None:
    """Personalize a trained run's model to the --target person from K frames (or one photo) for T
    iterations, with the rule of the algorithm that trained it, then render every frame of the --source's
    motion as that person into an MP4 at the source's frame rate. The source's skeleton is smoothed over
    time and carried into the target's frame (height and ankles) first. A JSON summary is printed and saved
    beside the MP4, with a contact sheet (source | pose | result) to check by eye."""
    made = retarget(
        init,
        target=target,
        source=source,
        out=out,
        k=k,
        t=t,
        side_by_side=side_by_side,
        smooth=not no_smooth,
        normalize=not no_normalize,
        max_frames=max_frames,
        target_keypoints=target_keypoints,
        source_keypoints=source_keypoints,
        target_person=target_person,
        source_person=source_person,
        seed=seed,
        device=device,
        show_progress=not quiet,
        beside=beside,
    )
    emit(json.dumps(made.summary, indent=2))
    say(f"wrote {made.video}: {made.frames} frames at {made.fps:g} fps; look at {made.contact_sheet}")

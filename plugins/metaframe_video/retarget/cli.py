"""``metaframe retarget``: an MP4 of the target person performing the source's motion.

The command rebuilds a trained run's model, task and personalization rule as ``eval`` does
(``metaframe.api.trained_setup``, ``personalizer``), checks that the model renders frames for poses
and that the task reads footage, then hands over to :func:`metaframe_video.retarget.render.retarget`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from metaframe.api import UsageError, batch_size, emit, personalizer, say, trained_setup
from metaframe_video.retarget.contract import Footage, FootageReader
from metaframe_video.retarget.render import RetargetPlan, check_capabilities, retarget
from metaframe_video.videofile import check_video_output

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
    device: DeviceOption = None,
    quiet: QuietOption = False,
) -> None:
    """Personalize a trained run's model to the --target person from K frames (or one photo) for T
    iterations, with the rule of the algorithm that trained it, then render every frame of the --source's
    motion as that person into an MP4 at the source's frame rate. The source's skeleton is smoothed over
    time and carried into the target's frame (height and ankles) first. A JSON summary is printed and saved
    beside the MP4, with a contact sheet (source | pose | result) to check by eye."""
    for flag, given in (("--target", target), ("--source", source)):
        if not given.strip():
            raise UsageError(f"{flag} is empty: give a photo, a clip or a folder of frames")
    goal = Footage(target, target_keypoints, target_person)
    motion_from = Footage(source, source_keypoints, source_person, max_frames)
    out = out or default_out(goal, motion_from)
    check_video_output(out)
    setup = trained_setup(init, {"k": k, "t": t, "seed": seed, "device": device})  # the footage is the data
    config = setup.config
    check_capabilities(config.model, setup.model, config.task, setup.sampler)
    personalize = personalizer(setup, init)
    reader = cast(FootageReader, setup.sampler)  # check_capabilities: it declares footage
    support = reader.target_examples(goal, k)
    motion = reader.source_motion(motion_from, goal, smooth=not no_smooth, normalize=not no_normalize)
    settings = config.settings
    say(f"retargeting {target} onto {source}'s motion ({len(motion)} frames), K={batch_size(support)}, T={settings.t}")
    plan = RetargetPlan(settings.t, settings.inner_schedule, settings.seed, side_by_side, not quiet)
    about = {"init": str(init), "algorithm": config.algorithm, "target": target, "source": source}
    summary = retarget(setup.model, personalize, support, motion, out, plan, about)
    emit(json.dumps(summary, indent=2))
    say(f"wrote {out}: {summary['frames']} frames at {summary['fps']:g} fps; look at {summary['contact_sheet']}")


def default_out(target: Footage, source: Footage) -> Path:
    """``retarget-TARGET-SOURCE.mp4`` in the current folder, from the footage's names."""
    names = [re.sub(r"[^A-Za-z0-9_.-]+", "-", footage.name).strip("-.") or "clip" for footage in (target, source)]
    return Path(f"retarget-{names[0]}-{names[1]}.mp4")

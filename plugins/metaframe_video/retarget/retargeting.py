"""``metaframe retarget`` for a Python caller: :func:`retarget` does what the command does and returns a
:class:`Retargeted` instead of printing it (the command, :mod:`.cli`, parses, calls it and prints).

It rebuilds a trained run's model, task and personalization rule as ``eval`` does
(``metaframe.api.trained_setup``, ``personalizer``), checks that the model renders frames for poses and
that the task reads footage, then hands over to :func:`metaframe_video.retarget.render.personalize_and_render`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from metaframe.api import (
    Plugins,
    UsageError,
    as_usage_errors,
    batch_size,
    check_counts,
    personalizer,
    reference,
    say,
    trained_setup,
)
from metaframe_video.retarget.contract import Footage, FootageReader, TargetPictures
from metaframe_video.retarget.render import Beside, RetargetPlan, check_capabilities, personalize_and_render
from metaframe_video.videofile import check_video_output


@dataclass(frozen=True)
class Retargeted:
    """What :func:`retarget` made.

    :param video: the MP4 written (one frame per source frame, at the source's frame rate).
    :param frames: how many frames it holds.
    :param fps: its frame rate (the source's).
    :param personalization_seconds: the time personalizing the model to the target took.
    :param rendering_fps: frames rendered per second (poses, model, pictures and encoding together).
    :param side_by_side: ``video`` again when it shows source | pose | result side by side, else None.
    :param contact_sheet: the PNG beside the video (source | pose | result, a few rows) to check by eye.
    :param target_sheet: the PNG of the K target frames with the skeletons found in them (``-target.png``),
        where the task draws them (video-shot does), else None.
    :param summary: everything the command prints, as saved in the ``.json`` beside the video.
    """

    video: Path
    frames: int
    fps: float
    personalization_seconds: float
    rendering_fps: float
    side_by_side: Path | None
    contact_sheet: Path
    target_sheet: Path | None
    summary: dict[str, Any]


@as_usage_errors
def retarget(
    init: str | Path,
    *,
    target: str,
    source: str,
    out: str | Path | None = None,
    k: int | None = None,
    t: int | None = None,
    side_by_side: bool = False,
    smooth: bool = True,
    normalize: bool = True,
    max_frames: int | None = None,
    target_keypoints: str | Path | None = None,
    source_keypoints: str | Path | None = None,
    target_person: str | int = "largest",
    source_person: str | int = "largest",
    seed: int | None = None,
    device: str | None = None,
    show_progress: bool = False,
    on_progress: Callable[[str, int, int], None] | None = None,
    beside: str | None = None,
    plugins: Plugins | None = None,
) -> Retargeted:
    """Personalize the model of the run folder ``init`` to the ``target`` person from K frames (or one
    photo) for T iterations, with the rule of the algorithm that trained it, then render every frame of
    the ``source``'s motion as that person into an MP4: ``metaframe retarget``. The keyword arguments are
    the command's options (``smooth=False`` is ``--no-smooth``); the summary and the contact sheet are
    written beside the video, as the command writes them.

    :param k: target frames to personalize on (default: the run's K, or all the target has if fewer).
    :param target_person: who to follow when several people are in view: ``"largest"`` or N (0 = leftmost).
    :param on_progress: called ``(stage, done, total)`` as stages ``personalize`` (T steps) and ``render``
        (one per source frame) start and advance, e.g. to drive a web page's progress bar.
    :param beside: a registered reference (a predictor that learns nothing, e.g. ``warp``) to draw beside
        the result, from the same target frames: a panel more in the video and the contact sheet.
    :raises UsageError: whatever the command line would refuse, with the line it prints.
    """
    check_counts(k=k, t=t, max_frames=max_frames)
    for flag, given in (("--target", target), ("--source", source)):
        if not given.strip():
            raise UsageError(f"{flag} is empty: give a photo, a clip or a folder of frames")
    goal = Footage(target, as_path(target_keypoints), str(target_person))
    motion_from = Footage(source, as_path(source_keypoints), str(source_person), max_frames)
    video = Path(out) if out is not None else default_out(goal, motion_from)
    check_video_output(video)
    predict = reference(beside, plugins) if beside else None  # an unknown name is refused before any work
    folder = Path(init)
    setup = trained_setup(folder, {"k": k, "t": t, "seed": seed, "device": device}, plugins)  # footage: the data
    config = setup.config
    check_capabilities(config.model, setup.model, config.task, setup.sampler)
    personalize = personalizer(setup, folder, plugins)
    reader = cast(FootageReader, setup.sampler)  # check_capabilities: it declares footage
    support = reader.target_examples(goal, k)
    motion = reader.source_motion(motion_from, goal, smooth=smooth, normalize=normalize)
    settings = config.settings
    say(f"retargeting {target} onto {source}'s motion ({len(motion)} frames), K={batch_size(support)}, T={settings.t}")
    drawn_beside = Beside(str(beside), predict, support) if predict is not None else None
    if drawn_beside is not None:
        drawn_beside.frames(motion.poses(0, 1))  # refuses, in one line, batches it cannot read
    plan = RetargetPlan(
        settings.t, settings.inner_schedule, settings.seed, side_by_side, show_progress, on_progress, drawn_beside
    )
    about = {"init": str(folder), "algorithm": config.algorithm, "target": target, "source": source}
    drawn = reader.target_pictures(support) if isinstance(reader, TargetPictures) else None
    summary = personalize_and_render(setup.model, personalize, support, motion, video, plan, about, drawn)
    return retargeted(video, summary)


def retargeted(video: Path, summary: dict[str, Any]) -> Retargeted:
    """The :class:`Retargeted` of a summary written beside ``video``."""
    return Retargeted(
        video=video,
        frames=summary["frames"],
        fps=summary["fps"],
        personalization_seconds=summary["personalization_seconds"],
        rendering_fps=summary["rendering_fps"],
        side_by_side=video if summary["side_by_side"] else None,
        contact_sheet=Path(summary["contact_sheet"]),
        target_sheet=Path(summary["target_sheet"]) if summary.get("target_sheet") else None,
        summary=summary,
    )


def as_path(value: str | Path | None) -> Path | None:
    """A path given as text or as a ``Path`` (None stays None)."""
    return Path(value) if value is not None else None


def default_out(target: Footage, source: Footage) -> Path:
    """``retarget-TARGET-SOURCE.mp4`` in the current folder, from the footage's names."""
    names = [re.sub(r"[^A-Za-z0-9_.-]+", "-", footage.name).strip("-.") or "clip" for footage in (target, source)]
    return Path(f"retarget-{names[0]}-{names[1]}.mp4")

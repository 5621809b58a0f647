"""Registers task ``video-shot`` and the video plugin's commands (``metaframe retarget``, ``metaframe prepare``)."""

from __future__ import annotations

import importlib.util
from typing import Any

from metaframe.api import Register, hookimpl
from metaframe_video.retarget import shots
from metaframe_video.task import video_shot


@hookimpl
def register_tasks(register: Register) -> None:
    register("video-shot", shots.build, options=video_shot.VideoShotOptions, test_options=video_shot.TEST_OPTIONS)


@hookimpl
def register_commands(cli: Any) -> None:
    from metaframe_video.retarget import cli as retarget_cli  # noqa: PLC0415 - PyAV only for the command line

    cli.command("retarget")(retarget_cli.retarget_command)
    from metaframe_video.demo import cli as demo_cli  # noqa: PLC0415 - Gradio itself only when the demo starts

    cli.command("demo")(demo_cli.demo_command)
    # `prepare` is optional: the task works without it (e.g. while it is being written, or trimmed out).
    if importlib.util.find_spec("metaframe_video.prepare") is None:
        return
    from metaframe_video.prepare import cli as prepare_cli

    prepare_cli.register(cli)

"""Registers model ``pose2im`` and the ``metaframe convert`` command (pix2pixHD checkpoints)."""

from __future__ import annotations

from typing import Any

from metaframe import hookimpl
from metaframe.hookspecs import Register
from metaframe_pose2im import cli as commands
from metaframe_pose2im import model

# The contract tests build every registered model with its factory's test options.
model.build.test_options = {"scale": "tiny"}  # type: ignore[attr-defined]


@hookimpl
def register_models(register: Register) -> None:
    register("pose2im", model.build)


@hookimpl
def register_commands(cli: Any) -> None:
    cli.command("convert")(commands.convert)

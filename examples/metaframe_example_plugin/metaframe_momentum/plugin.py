"""The plugin module named by the ``metaframe`` entry point: it registers ``reptile-momentum``."""

from __future__ import annotations

from typing import Any

from metaframe import hookimpl
from metaframe.config import RunSettings, parse_options
from metaframe.hookspecs import Register
from metaframe.protocols import TaskModel
from metaframe_momentum.reptile_momentum import MomentumOptions, ReptileMomentum


def build(options: dict[str, Any], model: TaskModel, settings: RunSettings) -> ReptileMomentum:
    """Reptile with a momentum meta-step (θ − θ̃ fed to SGD with momentum); any model."""
    return ReptileMomentum(parse_options(MomentumOptions, options, "algorithm"), model, settings)


build.requires = ReptileMomentum.requires  # type: ignore[attr-defined]  # checked before anything is built
build.options = MomentumOptions  # type: ignore[attr-defined]  # the option table, for docs and tools
build.test_options = {"epsilon": 0.5, "momentum": 0.5}  # type: ignore[attr-defined]  # for contract tests


@hookimpl
def register_algorithms(register: Register) -> None:
    register("reptile-momentum", build)

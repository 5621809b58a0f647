"""The plugin module named by the ``metaframe`` entry point: it registers ``reptile-momentum``."""

from __future__ import annotations

from typing import Any

from metaframe.api import Register, RunSettings, TaskModel, hookimpl, parse_options
from metaframe_momentum.reptile_momentum import MomentumOptions, ReptileMomentum


def build(options: dict[str, Any], model: TaskModel, settings: RunSettings) -> ReptileMomentum:
    """Reptile with a momentum meta-step (θ − θ̃ fed to SGD with momentum); any model."""
    return ReptileMomentum(parse_options(MomentumOptions, options, "algorithm"), model, settings)


@hookimpl
def register_algorithms(register: Register) -> None:
    register(
        "reptile-momentum",
        build,
        requires=ReptileMomentum.requires,  # model capabilities, checked before anything is built
        options=MomentumOptions,  # the option table, for docs and tools
        test_options={"epsilon": 0.5, "momentum": 0.5},  # the smallest options, for contract tests
    )

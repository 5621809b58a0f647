"""The plugin module named by the ``metaframe`` entry point: it registers ``reptile-momentum``."""

from __future__ import annotations

from metaframe.api import AlgorithmFactory, Register, Settings, TaskModel, hookimpl
from metaframe_momentum.reptile_momentum import MomentumOptions, ReptileMomentum


def build(options: MomentumOptions, model: TaskModel, settings: Settings) -> ReptileMomentum:
    """Reptile with a momentum meta-step (θ − θ̃ fed to SGD with momentum); any model."""
    return ReptileMomentum(options, model, settings)


@hookimpl
def register_algorithms(register: Register[AlgorithmFactory]) -> None:
    register(
        "reptile-momentum",
        build,
        requires=ReptileMomentum.requires,  # model capabilities, checked before anything is built
        options=MomentumOptions,  # the engine parses the option table as this and passes the instance to build
        test_options={"epsilon": 0.5, "momentum": 0.5},  # the smallest options, for contract tests
    )

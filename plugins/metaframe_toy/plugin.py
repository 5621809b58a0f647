"""Registers the sine toy: task ``sine``, model ``mlp`` and its default settings."""

from __future__ import annotations

from metaframe.api import Preset, Register, hookimpl
from metaframe_toy import mlp, sine

SINE_SETTINGS = {"k": 10, "t": 10, "meta_iterations": 1000, "meta_batch": 5, "checkpoint_every": 200}


@hookimpl
def register_tasks(register: Register) -> None:
    register("sine", sine.build, options=sine.SineOptions)


@hookimpl
def register_models(register: Register) -> None:
    register("mlp", mlp.build, options=mlp.MLPOptions)


@hookimpl
def register_presets(register: Register) -> None:
    register(
        "sine",
        Preset(
            algorithm=None,
            model="mlp",
            task="sine",
            settings=SINE_SETTINGS,
        ),
        "Sine toy defaults (K=10, T=10, 1000 meta-iterations of 5 tasks), for any algorithm",
    )
    register(
        "sine-fomaml",
        Preset("fomaml", "mlp", "sine", SINE_SETTINGS, {"algorithm": {"outer_lr": 0.003}}),
        "Sine toy defaults for fomaml, with the outer learning rate it needs in 1000 meta-iterations (3e-3)",
    )

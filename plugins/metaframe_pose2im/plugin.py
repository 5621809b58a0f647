"""Registers model ``pose2im``, its presets and experiment, the references that learn nothing
(``copy-nearest``, ``mean-support``, ``warp``) and the ``metaframe convert`` command (pix2pixHD checkpoints)."""

from __future__ import annotations

from typing import Any

from metaframe.api import Preset, Register, hookimpl
from metaframe_pose2im import cli as commands
from metaframe_pose2im import model
from metaframe_pose2im.experiment import MetaPixExperiment
from metaframe_pose2im.options import Pose2ImOptions, scale_size
from metaframe_pose2im.references import copy_nearest, mean_support, of_images_and_poses
from metaframe_pose2im.warp import warp_reference


@hookimpl
def register_models(register: Register) -> None:
    # the contract tests build every registered model with its test options: the smallest scale;
    # model.init names the weights it starts from, which eval leaves out for a fresh (random) row
    register("pose2im", model.build, options=Pose2ImOptions, test_options={"scale": "tiny"}, weights_option="init")


# MetaPix on a CPU: the paper's K = 5, T = 20 and ε = 1 decaying to 0, from the shipped pretrained model
# (as the paper starts from a pretrained Pose2Im), with the number of meta-iterations cut so that the
# README's main job (render the dancers, meta-train, sample) fits in 15 minutes on 2 cores.
CPU_SETTINGS = {"k": 5, "t": 20, "meta_iterations": 80, "checkpoint_every": 10, "sample_every": 20}
# The warp-and-refine generator is scored on pixels and starts at the warp: a pixel loss leads (pix2pix's
# L1, λ 100), the adversarial term only sharpens (λ 0.1), and feature matching, which drags the output away
# from the warp towards what a fresh discriminator likes, is off (measured on validation dancers:
# docs/reference/warp.md).
CPU_LOSSES = {"lambda_l1": 100.0, "lambda_gan": 0.1, "lambda_fm": 0.0}
CPU_OPTIONS = {"model": {"scale": "small", **CPU_LOSSES}, "task": {"size": scale_size("small")}}
METAPIX_MODEL = {**CPU_OPTIONS["model"], "init": "pretrained"}


@hookimpl
def register_presets(register: Register) -> None:
    register(
        "metapix",
        Preset(
            "reptile",
            "pose2im",
            "video-shot",
            CPU_SETTINGS,
            {**CPU_OPTIONS, "model": METAPIX_MODEL, "algorithm": {"epsilon": 1.0}},
        ),
        "MetaPix: Reptile over the shipped pretrained Pose2Im's generator and discriminator, K=5, T=20, "
        "80 meta-iterations, 128 px",
    )
    register(
        "pose2im-video",
        Preset(None, "pose2im", "video-shot", CPU_SETTINGS, CPU_OPTIONS),
        "Pose2Im on video shots for any algorithm, on MetaPix's CPU budget (K=5, T=20, 80 meta-iterations; "
        "fresh weights unless model.init=pretrained)",
    )


@hookimpl
def register_experiments(register: Register) -> None:
    register(
        "metapix",
        MetaPixExperiment,
        "MetaPix's evaluation: Table 1, Figures 2, 3 and 5, the ε and generator-only ablations (scales small, "
        "tiny, paper)",
    )


@hookimpl
def register_references(register: Register) -> None:
    # every reference is refused, with one line, where the batches hold no images and poses
    for name, reference in (("copy-nearest", copy_nearest), ("mean-support", mean_support), ("warp", warp_reference)):
        register(name, of_images_and_poses(name, reference))


@hookimpl
def register_commands(cli: Any) -> None:
    cli.command("convert")(commands.convert)

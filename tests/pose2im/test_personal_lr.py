"""Pose2Im's personalization step: model.personal_lr when set; for the warp-and-refine generator from two
or more frames the larger measured default; else the inner loop's lr."""

from __future__ import annotations

import pytest

from metaframe.errors import UsageError
from metaframe.testing import from_table
from metaframe_pose2im import model as pose2im_model
from metaframe_pose2im.model import WARP_PERSONAL_LR
from metaframe_pose2im.options import Pose2ImOptions
from tests.pose2im.conftest import make_batch

build = from_table(pose2im_model.build, Pose2ImOptions, "model")

INFO = {"in_channels": 17, "size": 32, "keypoints": "coco17"}


def personal_lrs(k: int, **options) -> set[float]:
    model = build({"scale": "tiny", "lr": 1e-4, **options}, INFO)
    model.set_support(make_batch(k, channels=17))
    return {group["lr"] for opt in model.personal_optimizers().values() for group in opt.param_groups}


@pytest.mark.parametrize("k, expected", [(1, 1e-4), (2, WARP_PERSONAL_LR), (5, WARP_PERSONAL_LR)])
def test_the_warp_generator_takes_the_larger_step_from_two_frames(k, expected):
    assert personal_lrs(k, generator="warp") == {expected}


@pytest.mark.parametrize("generator", ["pix2pixhd", "unet"])
def test_other_generators_personalize_at_lr(generator):
    assert personal_lrs(5, generator=generator) == {1e-4}


def test_personal_lr_when_set_wins_and_the_inner_loop_keeps_lr():
    model = build({"scale": "tiny", "generator": "warp", "lr": 1e-4, "personal_lr": 5e-4}, INFO)
    model.set_support(make_batch(1, channels=17))
    assert {g["lr"] for opt in model.personal_optimizers().values() for g in opt.param_groups} == {5e-4}
    assert {g["lr"] for opt in model.inner_optimizers().values() for g in opt.param_groups} == {1e-4}


def test_a_personal_lr_that_is_not_positive_is_refused():
    with pytest.raises(UsageError, match="personal_lr must be positive"):
        build({"scale": "tiny", "personal_lr": 0}, INFO)

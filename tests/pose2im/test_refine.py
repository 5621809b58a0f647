"""The warp-and-refine generator: untrained, it is the warp; it learns from the first step; during
personalization a support frame is drawn from the *other* support frames, or from its mirror image at K = 1."""

from __future__ import annotations

import pytest
import torch

from metaframe.errors import UsageError
from metaframe_pose2im.model import build
from metaframe_pose2im.warp import SupportParts, heatmap_keypoints, warp
from metaframe_pose2im.warp_input import WarpInput, mirrored
from metaframe_video.task.video_shot import TEST_OPTIONS
from metaframe_video.task.video_shot import build as build_task

SIZE = 32


@pytest.fixture(scope="module")
def task():
    return build_task(TEST_OPTIONS, k=3).eval_tasks()[0]


def model(**options):
    torch.manual_seed(0)
    info = {"in_channels": 17, "size": SIZE, "keypoints": "coco17"}
    return build({"scale": "tiny", "generator": "warp", "lambda_l1": 10.0, **options}, info)


def test_untrained_it_draws_exactly_the_warp(task):
    refine = model()
    refine.set_support(task.support)
    drawn = refine.predict(task.query)
    expected = warp(task.support["image"], task.support["keypoints"], task.query["keypoints"])
    assert (drawn - expected).abs().max() < 1e-4


def test_one_inner_step_moves_it_off_the_warp(task):
    refine = model()
    refine.set_support(task.support)
    before = refine.predict(task.query)
    refine.train()
    refine.inner_step(task.support, refine.inner_optimizers())
    assert (refine.predict(task.query) - before).abs().max() > 1e-4


def test_a_support_frame_is_drawn_from_the_others_never_from_itself(task):
    pose, image = task.support["pose"], task.support["image"]
    first = WarpInput().channels(pose, image)
    changed = image.clone()
    changed[0, :, :12] += 0.5  # frame 0's own pixels (the top third: still the same scene as the others)
    second = WarpInput().channels(pose, changed)
    assert torch.equal(first[0], second[0])  # frame 0 is drawn without them
    assert not torch.equal(first[1], second[1])  # but it serves the other frames


def test_one_photo_is_drawn_from_its_mirror_image(task):
    pose, image = task.support["pose"][:1], task.support["image"][:1]
    channels = WarpInput().channels(pose, image)
    flipped, keypoints = mirrored(image, heatmap_keypoints(pose))
    assert torch.equal(flipped.flip(-1), image) and keypoints[0, 1, 0] == SIZE - heatmap_keypoints(pose)[0, 2, 0]
    expected = SupportParts(flipped, keypoints).warp(heatmap_keypoints(pose)).channels()
    assert torch.allclose(channels, expected) and not torch.equal(channels[:, :3], image)


def test_drawing_before_any_support_is_a_bug_with_its_reason(task):
    with pytest.raises(RuntimeError, match="set_support"):
        model().predict(task.query)


def test_a_task_without_coco17_poses_is_refused_in_one_line():
    with pytest.raises(UsageError, match="COCO-17"):
        build({"scale": "tiny", "generator": "warp"}, {"in_channels": 5, "size": SIZE})

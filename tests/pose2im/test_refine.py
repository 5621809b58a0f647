"""The warp-and-refine generator: untrained, it is the warp; it learns from the first step; during
personalization a support frame is drawn from the *other* support frames, or at K = 1 from a randomly
moved copy of itself."""

from __future__ import annotations

import pytest
import torch

from metaframe.errors import UsageError
from metaframe.testing import from_table
from metaframe_pose2im import model as pose2im_model
from metaframe_pose2im.options import Pose2ImOptions
from metaframe_pose2im.warp import SupportParts, heatmap_keypoints, warp
from metaframe_pose2im.warp_input import WarpInput, moved_copy
from metaframe_video.task import video_shot
from metaframe_video.task.video_shot import TEST_OPTIONS, VideoShotOptions

build = from_table(pose2im_model.build, Pose2ImOptions, "model")
build_task = from_table(video_shot.build, VideoShotOptions, "task")

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


def test_one_photo_is_drawn_from_a_moved_copy_new_at_every_step(task):
    pose, image = task.support["pose"][:1], task.support["image"][:1]
    keypoints = heatmap_keypoints(pose)
    torch.manual_seed(3)
    moved, moved_keypoints = moved_copy(image, keypoints)
    torch.manual_seed(3)
    channels = WarpInput().channels(pose, image)
    expected = SupportParts(moved, moved_keypoints).warp(keypoints).channels()
    assert torch.allclose(channels, expected) and not torch.equal(channels[:, :3], image)
    assert not torch.allclose(moved, image) and not torch.allclose(moved_keypoints, keypoints)
    assert not torch.equal(WarpInput().channels(pose, image), channels)  # the next step draws another copy


def test_a_moved_copy_moves_the_keypoints_with_the_pixels():
    image = -torch.ones(1, 3, SIZE, SIZE)
    image[..., 10, 20] = 1.0  # one bright pixel, its centre at (20.5, 10.5)
    keypoints = torch.zeros(1, 17, 3)
    keypoints[0, 0] = torch.tensor([20.5, 10.5, 1.0])
    torch.manual_seed(0)
    moved, moved_keypoints = moved_copy(image, keypoints)
    brightest = moved[0, 0].flatten().argmax()
    y, x = divmod(int(brightest), SIZE)
    assert abs(x + 0.5 - moved_keypoints[0, 0, 0]) <= 1 and abs(y + 0.5 - moved_keypoints[0, 0, 1]) <= 1


def test_drawing_before_any_support_is_a_bug_with_its_reason(task):
    with pytest.raises(RuntimeError, match="set_support"):
        model().predict(task.query)


def test_a_task_without_coco17_poses_is_refused_in_one_line():
    with pytest.raises(UsageError, match="COCO-17"):
        build({"scale": "tiny", "generator": "warp"}, {"in_channels": 5, "size": SIZE})

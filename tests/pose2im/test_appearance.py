"""The support frames' views a reference-conditioned generator sees: background plate and nearest frame."""

from __future__ import annotations

import torch

from metaframe_pose2im.appearance import Support, keypoints_of

SIZE = 32


def frame_with_person(x: int, background: float, person: float) -> tuple[torch.Tensor, torch.Tensor]:
    """A flat background with a 'person' (a bright column around x) and its one-keypoint-per-joint pose."""
    image = torch.full((3, SIZE, SIZE), background)
    image[:, 8:24, x - 2 : x + 3] = person
    pose = torch.zeros(17, SIZE, SIZE)
    for joint, y in enumerate(range(8, 25)):
        pose[joint, y, x] = 1.0
    return pose, image


def support(*xs: int) -> tuple[torch.Tensor, torch.Tensor]:
    frames = [frame_with_person(x, -0.5, 0.9) for x in xs]
    return torch.stack([p for p, _ in frames]), torch.stack([i for _, i in frames])


def test_keypoints_are_read_off_the_heatmap_peaks():
    pose, _ = frame_with_person(10, 0.0, 1.0)
    keypoints = keypoints_of(pose[None])[0]
    assert keypoints[:, 0].eq(10.5).all() and keypoints[0, 1] == 8.5 and keypoints[:, 2].eq(1).all()


def test_the_plate_is_the_background_wherever_some_frame_shows_it():
    pose, image = support(6, 26)  # the person stands far apart in the two frames
    views = Support(pose, image).views(pose[:1])
    assert torch.allclose(views[0, :3], torch.full((3, SIZE, SIZE), -0.5)), "no trace of either person"


def test_a_frame_is_never_its_own_reference():
    pose, image = support(6, 16, 26)
    views = Support(pose, image).views(pose, real=image)
    nearest = views[:, 3:]
    for i in range(3):
        assert not torch.equal(nearest[i], image[i])
    assert torch.equal(nearest[0], image[1]) and torch.equal(nearest[2], image[1])


def test_a_new_pose_gets_the_support_frame_of_nearest_pose():
    pose, image = support(6, 26)
    query, _ = frame_with_person(24, -0.5, 0.9)
    assert torch.equal(Support(pose, image).views(query[None])[0, 3:], image[1])

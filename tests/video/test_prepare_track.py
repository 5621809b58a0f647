"""The person follower's logic with a stand-in for MediaPipe: people are coloured blocks on a grey field.

The stand-in, like MediaPipe Pose, reports one person per image: the colour with the most pixels (grey,
the colour ``prepare`` hides people with, is never a person). That is enough to check choosing, hiding,
following through a crossing, and finding a person again after they vanish for a while.
"""

from __future__ import annotations

import numpy as np

from metaframe_video.prepare.boxes import Person, box_of
from metaframe_video.prepare.track import Follower, choose, tiles
from tests.video.conftest_prepare import figure

RED, BLUE, GREEN = (200, 40, 40), (40, 40, 200), (40, 180, 40)


class BlockPose:
    """Finds the biggest coloured block (counted in pixels) and poses a standing figure in its box."""

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, image: np.ndarray) -> Person | None:
        self.calls += 1
        packed = image.astype(np.int32) @ np.array([1 << 16, 1 << 8, 1], np.int32)  # one number per colour
        masks = {colour: packed == (colour[0] << 16 | colour[1] << 8 | colour[2]) for colour in (RED, BLUE, GREEN)}
        colour, mask = max(masks.items(), key=lambda item: int(item[1].sum()))
        if mask.sum() < 50:
            return None
        ys, xs = np.nonzero(mask)
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        points = figure((x0 + x1) / 2, y1, y1 - y0)
        return Person(np.concatenate([points, np.ones((17, 1))], axis=1).astype(np.float32), box_of(points))

    def reset(self) -> None:
        pass


def scene(people: list[tuple[tuple[int, int, int], float, float, float]], width=400, height=200) -> np.ndarray:
    """A grey field with a block per (colour, centre x, feet y, height); later ones in front."""
    image = np.full((height, width, 3), 90, np.uint8)
    for colour, x, feet, tall in people:
        half = tall * 0.15
        image[int(feet - tall) : int(feet), int(x - half) : int(x + half)] = colour
    return image


def follow(choice, frames):
    pose = BlockPose()
    follower = Follower(pose, pose, choice)
    found = [follower.step(t, image) for t, image in enumerate(frames)]
    return [None if p is None else float((p.box[0] + p.box[2]) / 2) for p in found], pose.calls


def test_tiles_cover_a_wide_frame_with_squares_as_tall_as_it():
    squares = tiles(400, 200)
    assert [s.tolist() for s in squares] == [[0, 0, 200, 200], [100, 0, 300, 200], [200, 0, 400, 200]]


def test_choose_the_largest_or_the_nth_from_the_left():
    big, small = BlockPose().detect(scene([(RED, 300, 190, 150)])), BlockPose().detect(scene([(BLUE, 80, 190, 90)]))
    assert choose([small, big], "largest") is big
    assert choose([small, big], 0) is small and choose([small, big], 1) is big and choose([small, big], 2) is None


def test_everyone_is_found_and_the_chosen_one_followed_across_a_crossing():
    blue, red = (lambda t: 330 - 8 * t), (lambda t: 60 + 8 * t)  # red passes in front of blue
    frames = [scene([(BLUE, blue(t), 190, 100), (RED, red(t), 190, 160)]) for t in range(36)]
    xs, _ = follow("largest", frames)
    assert xs == [red(t) for t in range(36)]  # the tall red one, all the way
    xs, _ = follow(1, frames)  # counted from the left on the first frame: blue, on the right
    seen = [t for t, x in enumerate(xs) if x is not None]
    assert all(abs(xs[t] - blue(t)) < abs(xs[t] - red(t)) for t in seen)  # never red, even while red hides blue
    assert len(seen) >= 26 and seen[-1] == 35  # found again once out from behind


def test_a_vanished_person_is_found_again_and_not_swapped_for_the_other():
    frames = []
    for t in range(40):
        people = [(GREEN, 330, 190, 120)]
        if not 15 <= t < 25:  # red is gone for ten frames (behind a wall, mid-air...), then back nearby
            people.append((RED, 80 + 2 * t, 190, 160))
        frames.append(scene(people))
    xs, calls = follow("largest", frames)
    assert all(x is None for x in xs[15:25]) and None not in xs[:15] + xs[26:]
    assert max(x for x in xs if x is not None) < 200  # never the green one at x = 330
    assert calls < 40 * 6  # searching while lost is bounded


def test_nobody_gives_none_and_the_next_arrival_is_chosen():
    frames = [scene([])] * 5 + [scene([(BLUE, 200, 190, 120)])] * 5
    xs, _ = follow("largest", frames)
    assert xs[:5] == [None] * 5 and all(x == 200 for x in xs[5:])

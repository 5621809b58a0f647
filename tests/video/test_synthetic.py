"""Synthetic dancers: motion clips, deterministic renders, keypoints on the body, distinct identities, cache."""

import dataclasses
import json
import math

import numpy as np
import pytest

from metaframe.errors import UsageError
from metaframe_video.dataset import frame_paths, read_frames, read_index, read_keypoints
from metaframe_video.synthetic import world as synthetic
from metaframe_video.synthetic.dancer import DancerRenderer
from metaframe_video.synthetic.identity import Backdrop, Camera, draw_identity, look_signature
from metaframe_video.synthetic.motion import CLIPS, JOINTS, load_clip, timeline
from metaframe_video.synthetic.world import SyntheticConfig, dataset_folder, identities

TINY = SyntheticConfig(identities=2, eval_identities=1, frames=6, size=32)


@pytest.fixture(scope="module")
def renderer():
    with DancerRenderer() as session:
        yield session


def identity(seed=0, **changes):
    return dataclasses.replace(draw_identity("test", np.random.default_rng(seed)), **changes)


def test_every_clip_loads_and_interpolates_to_unit_quaternions():
    assert len(CLIPS) == 15
    for name in CLIPS:
        clip = load_clip(name)
        assert clip.duration > 0.4 and clip.frames.shape[1] == 44, name
        pose = clip.pose_at(clip.duration * 0.37)
        assert len(pose.joints) == len(JOINTS) and 0 < pose.root_height < 1.2
        for q in (pose.root_orientation, *[j for j in pose.joints if len(j) == 4]):
            assert math.isclose(np.linalg.norm(q), 1.0, rel_tol=1e-6)


def test_timeline_cycles_the_clips():
    walk = load_clip("walk").duration
    schedule = timeline(["walk", "jump"], 120, 30.0, 1.0, walk - 0.05)
    assert schedule[0] == ("walk", walk - 0.05) and schedule[2][0] == "jump"
    assert {name for name, _ in schedule} == {"walk", "jump"} and len(schedule) == 120


def test_renders_are_deterministic(renderer):
    first = renderer.render(identity(3), 3, 32)
    with DancerRenderer() as other:
        second = other.render(identity(3), 3, 32)
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])
    assert first[0].shape == (3, 32, 32, 3) and first[0].dtype == np.uint8
    assert first[1].shape == (3, 17, 3) and first[1].dtype == np.float32


def test_visible_keypoints_sit_on_the_body(renderer):
    """Pixels that change with the background are background; every seen keypoint is within 1 px of the figure."""
    size = 64
    for seed in range(4):
        person = identity(seed)
        backdrops = [
            dataclasses.replace(person.backdrop, kind="solid", colors=(c, c), floor=None)
            for c in ((0, 0, 0), (1, 1, 1))
        ]
        (dark, keypoints), (light, _) = (
            renderer.render(dataclasses.replace(person, backdrop=b), 4, size) for b in backdrops
        )
        figure = np.abs(dark.astype(int) - light.astype(int)).max(-1) < 128  # mostly the figure's own colour
        for frame, points in zip(figure, keypoints, strict=True):
            for x, y, score in points:
                if score == 1:
                    i, j = int(y), int(x)
                    assert frame[max(i - 1, 0) : i + 2, max(j - 1, 0) : j + 2].any(), (seed, x, y)


def test_front_view_shows_the_face_and_puts_the_right_side_on_the_left(renderer):
    person = identity(0, clips=("walk",), start=0.0)
    front = dataclasses.replace(person, camera=Camera(0.0, 4.0, 1.0, 0.85, 0.85))
    back = dataclasses.replace(person, camera=Camera(math.pi, 4.0, 1.0, 0.85, 0.85))
    (_, seen_front), (_, seen_back) = renderer.render(front, 1, 64), renderer.render(back, 1, 64)
    right, left = 6, 5  # shoulders in COCO-17
    assert seen_front[0, right, 0] < seen_front[0, left, 0] and seen_back[0, right, 0] > seen_back[0, left, 0]
    assert (seen_front[0, :3, 2] == 1).all() and (seen_back[0, :3, 2] == 0.5).all()  # nose and eyes


def test_a_standing_dancer_is_framed_like_a_person_crop(renderer):
    person = identity(1, clips=("walk",), camera=Camera(0.7, 4.0, 1.2, 0.85, 0.9))
    _, keypoints = renderer.render(person, 10, 64)
    height = (keypoints[..., 1].max(1) - keypoints[..., 1].min(1)) / 64  # nose to ankles
    centre = keypoints[..., 0].mean(1) / 64
    assert 0.6 < np.median(height) < 0.9 and np.all(np.abs(centre - 0.5) < 0.15)


def test_backdrops_of_every_kind_fill_the_frame():
    from metaframe_video.synthetic.identity import BACKDROPS, backdrop_image

    for kind in BACKDROPS:
        backdrop = Backdrop(kind, ((0.1, 0.2, 0.3), (0.9, 0.8, 0.7)), 0.1, 0.5, (0.5, 0.5, 0.5), 2.0, 7)
        image = backdrop_image(backdrop, 32, floor_row=24.0)
        assert image.shape == (32, 32, 3) and image.min() >= 0 and image.max() <= 1
        assert np.allclose(image[-1, 0], 0.5 * (1 - 0.35 * 7.5 / 32), atol=1e-3)  # the floor
        assert kind == "solid" or np.ptp(image[:24]) > 0.3, kind


def test_held_out_identities_are_other_people():
    people = identities(SyntheticConfig(identities=24, eval_identities=8))
    train = [p for p, split in people if split == "train"]
    held_out = [p for p, split in people if split == "eval"]
    assert len(train) == 24 and len(held_out) == 8
    assert not {p.name for p in train} & {p.name for p in held_out}
    looks = np.stack([look_signature(p) for p in train])
    for person in held_out:
        assert np.linalg.norm(looks - look_signature(person), axis=1).min() > synthetic.MIN_LOOK_DISTANCE
    assert len({p.link_colors for p in train + held_out}) == 32 and len({p.camera for p in train + held_out}) == 32


def test_identities_are_deterministic_in_the_seed():
    assert identities(TINY) == identities(TINY)
    assert identities(TINY) != identities(dataclasses.replace(TINY, seed=1))


def test_the_dataset_is_rendered_once_then_loaded(monkeypatch, tmp_path):
    monkeypatch.setenv("METAFRAME_CACHE", str(tmp_path))
    folder = dataset_folder(TINY)
    index = read_index(folder)
    assert [v["split"] for v in index["videos"]] == ["train", "train", "eval"]
    assert index["size"] == 32 and index["synthetic"]["frames"] == 6
    monkeypatch.setattr(synthetic, "render_all", lambda *args: pytest.fail("rendered again"))
    assert dataset_folder(TINY) == folder


def test_the_same_config_renders_the_same_dataset_anywhere(monkeypatch, tmp_path):
    folders = []
    for name in ("a", "b"):
        monkeypatch.setenv("METAFRAME_CACHE", str(tmp_path / name))
        folders.append(dataset_folder(TINY))
    assert folders[0].name == folders[1].name
    assert (folders[0] / "dataset.json").read_text() == (folders[1] / "dataset.json").read_text()
    video = read_index(folders[0])["videos"][2]
    shot = video["shots"][0]
    for folder in folders[1:]:
        paths = [frame_paths(f, video, shot) for f in (folders[0], folder)]
        assert np.array_equal(read_frames(paths[0], range(6)), read_frames(paths[1], range(6)))
        assert np.array_equal(read_keypoints(folders[0], video, shot, 6), read_keypoints(folder, video, shot, 6))


def test_parallel_workers_render_what_one_process_renders(monkeypatch, tmp_path):
    monkeypatch.setenv("METAFRAME_CACHE", str(tmp_path / "serial"))
    serial = dataset_folder(TINY)
    monkeypatch.setattr(synthetic, "PARALLEL_FROM", 0)
    monkeypatch.setattr(synthetic.os, "cpu_count", lambda: 2)
    monkeypatch.setenv("METAFRAME_CACHE", str(tmp_path / "parallel"))
    parallel = dataset_folder(TINY)
    for video in read_index(serial)["videos"]:
        shot = video["shots"][0]
        frames = [read_frames(frame_paths(f, video, shot), range(6)) for f in (serial, parallel)]
        assert np.array_equal(*frames)


def test_an_unwritable_cache_is_one_clear_line(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("METAFRAME_CACHE", str(blocker / "cache"))
    with pytest.raises(UsageError, match="METAFRAME_CACHE") as error:
        dataset_folder(TINY)
    assert "\n" not in str(error.value) and str(blocker) in str(error.value)


def test_an_interrupted_render_leaves_nothing_behind(monkeypatch, tmp_path):
    monkeypatch.setenv("METAFRAME_CACHE", str(tmp_path))
    real = synthetic.render_video
    calls = []

    def crash_on_second(*args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(synthetic, "render_video", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        dataset_folder(TINY)
    assert not any((tmp_path / "synthetic-dancers").iterdir())
    monkeypatch.setattr(synthetic, "render_video", real)
    assert json.loads((dataset_folder(TINY) / "dataset.json").read_text())["videos"]


def test_unknown_clips_are_usage_errors():
    with pytest.raises(UsageError, match="unknown motion clip.*moonwalk.*dance_a"):
        SyntheticConfig(clips=("dance_a", "moonwalk"))

"""``metaframe prepare`` without MediaPipe: boxes, crops, cuts, OpenPose input, the dataset it writes, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from metaframe.errors import UsageError
from metaframe.testing import run_cli
from metaframe_video.dataset import read_index, read_shot
from metaframe_video.prepare import pipeline as prepare_module
from metaframe_video.prepare.boxes import Person, box_of, crop_square, fit_square
from metaframe_video.prepare.cli import register
from metaframe_video.prepare.pipeline import PrepareOptions, prepare
from metaframe_video.prepare.pose_openpose import ListFollower, read_people
from metaframe_video.prepare.shots import Look, keypoints_to, steady_square
from metaframe_video.prepare.sources import Selection, open_source
from tests.video.conftest_prepare import body25, figure, openpose_clip, write_video

# --- boxes and crops


def test_a_square_is_moved_inside_the_frame_and_padded_only_when_too_big():
    assert fit_square(np.array([-10.0, 5, 40, 55]), 100, 80).tolist() == [0, 5, 50, 55]
    assert fit_square(np.array([70.0, 50, 110, 90]), 100, 80).tolist() == [60, 40, 100, 80]
    tall = fit_square(np.array([10.0, -20, 110, 80]), 200, 80)  # 100 high in an 80-high frame: centred
    assert tall.tolist() == [10, -10, 110, 90]


def test_crop_square_pads_with_black_beyond_the_border():
    image = np.full((4, 6, 3), 200, np.uint8)
    crop, origin = crop_square(image, np.array([-2.0, -1, 3, 4]))
    assert crop.shape == (5, 5, 3) and origin.tolist() == [-2, -1, 3, 4]
    assert (crop[:1] == 0).all() and (crop[:, :2] == 0).all() and (crop[1:, 2:] == 200).all()


def test_steady_square_holds_every_box_and_stays_in_the_frame():
    boxes = [np.array([100.0 + 10 * t, 200, 150 + 10 * t, 300]) for t in range(20)]
    square = steady_square(boxes, 640, 360, margin=0.15)
    side = square[2] - square[0]
    assert side == square[3] - square[1] and square[0] <= 100 and square[2] >= 340 and square[1] >= 0
    assert square[3] <= 360 and square.tolist() == np.round(square).tolist()


def test_keypoints_move_into_the_crop_and_those_outside_lose_their_score():
    keypoints = np.array([[150.0, 250, 0.9], [10, 10, 0.8]] + [[150, 250, 0.5]] * 15, dtype=np.float32)
    moved = keypoints_to(keypoints, np.array([100.0, 200, 200, 300]), 50)
    assert moved[0].tolist() == pytest.approx([25, 25, 0.9]) and moved[1, 2] == 0


# --- shot changes


def _scene(seed: int) -> np.ndarray:
    """A textured RGB frame, 144×256."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (9, 16, 3), dtype=np.uint8)
    return np.kron(small, np.ones((16, 16, 1), np.uint8))


def test_a_new_scene_is_a_cut_but_exposure_and_camera_motion_are_not():
    scene = _scene(0)
    darker = (scene * 0.5).astype(np.uint8)
    moved = np.roll(scene, 4, axis=1)
    assert Look.of(_scene(1)).is_cut(Look.of(scene), 0.3)
    assert not Look.of(darker).is_cut(Look.of(scene), 0.3)
    assert not Look.of(moved).is_cut(Look.of(scene), 0.3)


# --- OpenPose input


def test_openpose_coco18_and_body25_map_to_the_same_coco17(tmp_path):
    points = figure(50, 100, 80)
    coco18 = np.zeros((18, 3))
    coco18[[0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10], :2] = points
    coco18[:, 2] = 0.8
    for name, flat in (("c18", coco18.ravel().tolist()), ("b25", body25(points))):
        path = tmp_path / f"{name}_keypoints.json"
        path.write_text(json.dumps({"people": [{"pose_keypoints_2d": flat}]}))
        (person,) = read_people(path)
        assert person.keypoints.shape == (17, 3)
        np.testing.assert_allclose(person.keypoints[:, :2], points, atol=0.01)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"people": [{"pose_keypoints_2d": [1.0] * 51}]}, r"person 0 has 17 keypoints \(51 numbers\), a layout"),
        ({"people": [{"pose_keypoints_2d": "x"}]}, "person 0 has pose_keypoints_2d of type str; expected 18"),
        ({"persons": []}, 'has no "people" list'),
        ("{not json", "cannot read"),
    ],
)
def test_an_openpose_file_of_the_wrong_shape_is_one_line_naming_it(tmp_path, content, message):
    path = tmp_path / "f_000_keypoints.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(UsageError, match=message) as error:
        read_people(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def _person(x: float, height: float) -> Person:
    points = figure(x, 100, height)
    return Person(np.concatenate([points, np.ones((17, 1))], axis=1).astype(np.float32), box_of(points))


def test_the_list_follower_keeps_its_person_when_two_cross():
    follower = ListFollower("largest")
    xs = [follower.step(t, [_person(130 - 4 * t, 60), _person(40 + 4 * t, 90)]).box[0] for t in range(25)]
    assert np.all(np.diff(xs) > 0)  # always the tall one walking right, through the crossing


def test_the_list_follower_takes_the_nth_from_the_left():
    follower = ListFollower(1)
    assert follower.step(0, [_person(130, 60), _person(40, 90)]).box[0] > 100


# --- the whole command, on OpenPose input (no MediaPipe needed)


def _options(**changes) -> PrepareOptions:
    return PrepareOptions(**{"size": 64, "min_shot": 5, **changes})


def test_prepare_from_openpose_writes_the_dataset_format(tmp_path):
    frames, keypoints = openpose_clip(tmp_path / "clip")
    out = tmp_path / "ds"
    prepare([frames], out, _options(identity="walker", split="train"), [keypoints])
    index = read_index(out)
    (video,) = index["videos"]
    assert video["identity"] == "walker" and video["split"] == "train" and index["size"] == 64
    (shot_entry,) = video["shots"]
    assert shot_entry["frames"] == 24 and shot_entry["first_frame"] == 0 and shot_entry["last_frame"] == 23
    shot = read_shot(out, video, shot_entry)
    assert shot.frames.shape == (24, 64, 64, 3) and shot.keypoints.shape == (24, 17, 3)
    tall_colour = np.array([200, 40, 40])
    for image, points in zip(shot.frames, shot.keypoints, strict=True):  # the tall (red) one, every frame
        x, y = points[11, :2].round().astype(int)  # left hip
        assert np.abs(image[y, x].astype(int) - tall_colour).max() < 40
    assert (out / "contact_sheet.png").is_file()


def test_prepare_person_1_follows_the_other_one(tmp_path):
    frames, keypoints = openpose_clip(tmp_path / "clip")
    out = tmp_path / "ds"
    prepare([frames], out, _options(person=1), [keypoints])
    video = read_index(out)["videos"][0]
    shot = read_shot(out, video, video["shots"][0])
    x, y = shot.keypoints[0, 11, :2].round().astype(int)
    assert np.abs(shot.frames[0][y, x].astype(int) - [40, 40, 200]).max() < 40  # blue: the short one


def test_each_shot_is_its_own_entry_and_short_shots_are_skipped(tmp_path):
    frames, keypoints = openpose_clip(tmp_path / "clip", frames=30, cut_at=12)
    prepare([frames], tmp_path / "ds", _options(min_shot=5), [keypoints])
    video = read_index(tmp_path / "ds")["videos"][0]
    assert [(s["first_frame"], s["last_frame"], s["frames"]) for s in video["shots"]] == [(0, 11, 12), (12, 29, 18)]
    assert video["shots"][0]["crop"] != video["shots"][1]["crop"]  # each shot has its own steady square
    prepare([frames], tmp_path / "ds", _options(min_shot=15), [keypoints])
    video = read_index(tmp_path / "ds")["videos"][0]
    assert [s["first_frame"] for s in video["shots"]] == [12] and video["skipped_shots"][0]["first_frame"] == 0


def test_keep_lost_keeps_frames_without_the_person_with_score_0(tmp_path):
    frames, keypoints = openpose_clip(tmp_path / "clip", frames=12)
    for t in (3, 4):
        (keypoints / f"frame_{t}_keypoints.json").write_text(json.dumps({"people": []}))
    prepare([frames], tmp_path / "kept", _options(keep_lost=True), [keypoints])
    prepare([frames], tmp_path / "dropped", _options(), [keypoints])
    kept, dropped = (read_index(tmp_path / name)["videos"][0] for name in ("kept", "dropped"))
    assert kept["shots"][0]["frames"] == 12 and dropped["shots"][0]["frames"] == 10
    assert kept["shots"][0]["frames_without_person"] == "3-4" and kept["frames_without_person"] == 2
    shot = read_shot(tmp_path / "kept", kept, kept["shots"][0])
    assert (shot.keypoints[3:5, :, 2] == 0).all() and (shot.keypoints[[2, 5], :, 2] > 0).all()


def test_openpose_keypoints_of_a_video_file_are_matched_by_order(tmp_path):
    frames, keypoints = openpose_clip(tmp_path / "clip", frames=12)
    images = np.stack([np.asarray(Image.open(frames / f"frame_{t}.png")) for t in range(12)])
    video = write_video(tmp_path / "walk.mp4", images)
    for t in range(12):  # OpenPose names the JSON of a video's frames VIDEO_000000000007_keypoints.json
        (keypoints / f"frame_{t}_keypoints.json").rename(keypoints / f"walk_{t:012d}_keypoints.json")
    prepare([video], tmp_path / "ds", _options(), [keypoints])
    (entry,) = read_index(tmp_path / "ds")["videos"][0]["shots"]
    assert entry["frames"] == 12 and entry["first_frame"] == 0 and entry["last_frame"] == 11


def test_selection_reads_every_nth_frame_from_start(tmp_path):
    images = np.zeros((12, 32, 32, 3), np.uint8)
    images[..., 0] = (np.arange(12) * 20)[:, None, None]
    video = write_video(tmp_path / "ramp.mp4", images)
    source = open_source(video, Selection(start=2, every=3, max_frames=3))
    frames = list(source.frames())
    assert [f.index for f in frames] == [2, 5, 8] and source.expected == 3
    assert [int(round(f.image[..., 0].mean() / 20)) for f in frames] == [2, 5, 8]


# --- errors: one line each, nothing half-written


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.mp4", "does not exist"),
        (lambda tmp: (tmp / "notes.mp4").write_text("not a video") and tmp / "notes.mp4", "cannot read .* as a video"),
        (lambda tmp: (tmp / "empty").mkdir() or tmp / "empty", "holds no frames"),
    ],
)
def test_a_missing_or_unreadable_video_is_one_line(tmp_path, make, message):
    with pytest.raises(UsageError, match=message) as error:
        prepare([make(tmp_path)], tmp_path / "ds", _options())
    assert "\n" not in str(error.value) and not (tmp_path / "ds").exists()


def test_keypoint_files_must_match_the_frames(tmp_path):
    frames, keypoints = openpose_clip(tmp_path / "clip", frames=6)
    (keypoints / "frame_5_keypoints.json").unlink()
    (keypoints / "frame_4_keypoints.json").unlink()
    with pytest.raises(UsageError, match="5 keypoint files for 6 frames|4 keypoint files for 6 frames"):
        prepare([frames], tmp_path / "ds", _options(), [keypoints])


def test_an_interrupted_prepare_leaves_nothing_and_the_rerun_completes(tmp_path, monkeypatch):
    frames, keypoints = openpose_clip(tmp_path / "clip")
    out = tmp_path / "ds"
    prepare([frames], out, _options(), [keypoints])
    before = (out / "dataset.json").read_text()

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(prepare_module, "write_shot", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare([frames], out, _options(size=32), [keypoints])
    assert (out / "dataset.json").read_text() == before  # the old dataset is untouched
    assert not list(tmp_path.glob(".ds.partial-*"))
    monkeypatch.undo()
    (tmp_path / ".ds.partial-killed").mkdir()  # what a killed run (kill -9) leaves
    prepare([frames], out, _options(size=32), [keypoints])
    assert read_index(out)["size"] == 32 and not list(tmp_path.glob(".ds.partial-*"))


def test_out_must_be_new_empty_or_a_dataset(tmp_path):
    frames, keypoints = openpose_clip(tmp_path / "clip", frames=6)
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.tex").write_text("precious")
    with pytest.raises(UsageError, match="not a metaframe dataset"):
        prepare([frames], tmp_path / "home", _options(), [keypoints])
    with pytest.raises(UsageError, match="would replace an input"):
        prepare([frames], tmp_path / "clip", _options(), [keypoints])
    assert (tmp_path / "home" / "thesis.tex").read_text() == "precious"


def test_frames_without_the_person_are_recorded_as_ranges():
    assert prepare_module.index_ranges([3, 4, 5, 9, 12, 13], 1) == "3-5,9,12-13"
    assert prepare_module.index_ranges([3, 6, 9, 15], 3) == "3-9,15" and prepare_module.index_ranges([], 2) == ""


def test_too_few_frames_of_the_person_says_how_many_had_none(tmp_path):
    frames, keypoints = openpose_clip(tmp_path / "clip", frames=6)
    for path in sorted(keypoints.iterdir())[:4]:
        path.write_text(json.dumps({"people": []}))
    with pytest.raises(UsageError, match=r"found in only 2 of 6 frames \(4 had none\)"):
        prepare([frames], tmp_path / "ds", _options(), [keypoints])
    for path in keypoints.iterdir():
        path.write_text(json.dumps({"people": []}))
    with pytest.raises(UsageError, match="no person found in .*: none of its 6 frames"):
        prepare([frames], tmp_path / "ds", _options(), [keypoints])


def test_mediapipe_missing_says_how_to_get_it(tmp_path, monkeypatch):
    frames, _ = openpose_clip(tmp_path / "clip", frames=6)
    monkeypatch.setitem(__import__("sys").modules, "mediapipe", None)
    with pytest.raises(UsageError, match=r"MediaPipe is not available .*metaframe\[pose\].*--keypoints"):
        prepare([frames], tmp_path / "ds", _options())


# --- the command line


def test_prepare_registers_on_any_typer_app_with_full_help():
    app = typer.Typer()
    register(app)

    @app.command()
    def other() -> None:  # a second command, so typer keeps `prepare` as a subcommand
        """Nothing."""

    result = CliRunner().invoke(app, ["prepare", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--out", "--size", "--person", "--keypoints", "--start", "--max-frames", "--every", "--min-shot"):
        assert option in result.output
    assert "task.data=DATASET_DIR" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.mp4"], "missing.mp4 does not exist"),
        (["x.mp4", "--person", "tallest"], "--person 'tallest': expected 'largest' or a number"),
        (["x.mp4", "--split", "test"], "--split 'test': expected 'train' or 'eval'"),
        (["x.mp4", "--size", "8"], "--size"),
    ],
)
def test_cli_errors_are_one_red_line_with_exit_code_2(plugins, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run_cli(["prepare", *args, "--out", str(tmp_path / "ds")])
    assert result.exit_code == 2 and message in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_cli_prepares_from_openpose(plugins, tmp_path):
    frames, keypoints = openpose_clip(tmp_path / "clip", frames=12)
    args = ["prepare", str(frames), "--keypoints", str(keypoints), "--out", str(tmp_path / "ds"), "--size", "48"]
    result = run_cli([*args, "--min-shot", "4", "--every", "2"])
    assert result.exit_code == 0, result.stderr
    video = read_index(tmp_path / "ds")["videos"][0]
    assert video["frames_read"] == 6 and video["shots"][0]["every"] == 2
    assert "wrote" in result.stderr and "contact_sheet.png" in result.stderr


def test_the_video_shot_task_reads_a_prepared_dataset(tmp_path):
    import torch

    from metaframe_video.task.video_shot import VideoShotOptions, VideoShotTasks

    frames, keypoints = openpose_clip(tmp_path / "clip")
    prepare([frames, frames], tmp_path / "ds", _options(), [keypoints, keypoints])
    options = VideoShotOptions(data=tmp_path / "ds", size=64, query=2, eval_query=2, eval_identities=1)
    tasks = VideoShotTasks(options, k=3)
    task = tasks.sample(torch.Generator().manual_seed(0))
    assert task.support["pose"].shape[0] == 3 and task.support["image"].shape[-1] == 64
    assert task.query["pose"].shape[0] == 2 and len(tasks.eval_tasks()) == 1

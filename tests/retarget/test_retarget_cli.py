"""``metaframe retarget`` end to end at tiny scale: the video has the source's frames and rate, the summary
says what happened, every kind of target and source is read."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from metaframe.testing import run_cli
from tests.retarget.conftest import dancer, read_video, write_frames, write_mp4, write_openpose

SOURCE_FRAMES = 24  # the tiny world's videos


def retarget(run, out, *args):
    """Run the command; on success return its summary (printed and saved beside the video, the same)."""
    result = run_cli(["retarget", "--init", str(run), "--out", str(out), "--quiet", *args])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert json.loads(out.with_suffix(".json").read_text()) == summary
    return summary


def test_synthetic_dancers_side_by_side(tiny_run, tmp_path):
    out = tmp_path / "videos" / "dance.mp4"
    summary = retarget(tiny_run, out, "--target", "synthetic:eval-000", "--source", "synthetic:train-001",
                       "--side-by-side")  # fmt: skip
    frames, fps, width, height = read_video(out)
    assert frames == SOURCE_FRAMES == summary["frames"] and fps == pytest.approx(30.0) == summary["fps"]
    assert width == 3 * height == 3 * 32  # source | pose | result
    assert summary["k"] == 2 and summary["t"] == 1 and summary["frames_without_pose"] == 0
    assert summary["personalization_seconds"] > 0 and summary["rendering_fps"] > 0
    assert summary["temporal_std"] >= 0 and summary["normalization"]["target"]["height"] > 0
    sheet = np.asarray(Image.open(out.with_suffix(".png")))
    assert sheet.shape[1] > 3 * 32 and sheet.shape[0] > 6 * 32  # six rows of three panels, titled
    pose_panel = sheet[20:, 34:66]  # below the titles, the second column: a skeleton drawn on black
    assert (pose_panel.max(axis=-1) > 100).mean() > 0.01 and np.median(pose_panel) == 0
    target = np.asarray(Image.open(out.parent / "dance-target.png"))
    assert target.shape == (32, 2 * 32 + 2, 3) and summary["target_sheet"] == str(out.parent / "dance-target.png")
    names = ["dance-target.png", "dance.json", "dance.mp4", "dance.png"]
    assert sorted(p.name for p in out.parent.iterdir()) == names


def test_the_target_sheet_draws_the_skeletons_found_on_the_support_frames(tiny_run, tiny_world, tmp_path):
    out = tmp_path / "dance.mp4"
    retarget(tiny_run, out, "--target", "synthetic:eval-000", "--source", "synthetic:train-001", "--k", "1",
             "--max-frames", "2")  # fmt: skip
    drawn = np.asarray(Image.open(tmp_path / "dance-target.png")).astype(int)
    frames, _ = dancer(tiny_world, "eval-000")
    plain = frames[0].astype(int)  # K = 1: the first frame with a pose, as the support takes it
    assert drawn.shape == plain.shape
    changed = np.abs(drawn - plain).max(axis=-1) > 40
    assert 0.02 < changed.mean() < 0.6  # limbs drawn over the frame, the frame still there


def test_plain_output_options_and_the_default_name(tiny_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_cli(["retarget", "--init", str(tiny_run), "--target", "synthetic:eval-001", "--source",
                      "synthetic:eval-000", "--max-frames", "10", "--k", "3", "--t", "2", "--no-smooth",
                      "--no-normalize", "--quiet"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (tmp_path / "retarget-eval-001-eval-000.mp4").is_file()
    assert read_video(tmp_path / "retarget-eval-001-eval-000.mp4")[::2] == (10, 32)
    assert (summary["k"], summary["t"], summary["smoothing"], summary["normalization"]) == (3, 2, None, None)


def test_a_retarget_is_repeatable(tiny_run, tmp_path):
    args = ["--target", "synthetic:eval-000", "--source", "synthetic:train-000", "--max-frames", "4"]
    retarget(tiny_run, tmp_path / "a.mp4", *args)
    retarget(tiny_run, tmp_path / "b.mp4", *args)
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


@pytest.fixture
def footage(tiny_world, tmp_path):
    """A dancer's video at 12 fps with OpenPose JSON (two frames with nobody), its frames, one photo."""
    pytest.importorskip("cv2", reason="preparing footage needs OpenCV (pip install 'metaframe[pose]')")
    frames, keypoints = dancer(tiny_world, "eval-001")
    hidden = keypoints.copy()
    hidden[[5, 6], :, 2] = 0
    clip = write_mp4(tmp_path / "clip.mp4", frames, fps=12)
    return {
        "video": clip,
        "video_keypoints": write_openpose(tmp_path / "clip-openpose", hidden),
        "frames": write_frames(tmp_path / "frames", frames),
        "frames_keypoints": write_openpose(tmp_path / "frames-openpose", keypoints, "pose{}.json"),
        "photo": write_frames(tmp_path / "photo", frames[:1]) / "frame_0000.png",
        "photo_keypoints": write_openpose(tmp_path / "photo-openpose", keypoints[:1]),
    }


def test_a_video_source_is_prepared_and_keeps_its_frames_and_rate(tiny_run, footage, tmp_path):
    out = tmp_path / "out.mp4"
    summary = retarget(tiny_run, out, "--target", "synthetic:eval-000", "--source", str(footage["video"]),
                       "--source-keypoints", str(footage["video_keypoints"]))  # fmt: skip
    frames, fps, _, _ = read_video(out)
    assert frames == SOURCE_FRAMES and fps == pytest.approx(12.0) and summary["fps"] == pytest.approx(12.0)
    assert summary["frames_without_pose"] == 2 and "last pose" in summary["filled_with"]


def test_a_frame_folder_and_a_photo_as_targets(tiny_run, footage, tmp_path):
    folder = retarget(tiny_run, tmp_path / "folder.mp4", "--target", str(footage["frames"]), "--target-keypoints",
                      str(footage["frames_keypoints"]), "--source", "synthetic:train-002", "--k", "4")  # fmt: skip
    photo = retarget(tiny_run, tmp_path / "photo.mp4", "--target", str(footage["photo"]), "--target-keypoints",
                     str(footage["photo_keypoints"]), "--source", "synthetic:train-002")  # fmt: skip
    assert folder["k"] == 4 and photo["k"] == 1  # one photo: K = 1, the paper's video-to-image case
    assert folder["frames"] == photo["frames"] == SOURCE_FRAMES


def test_prepared_dataset_folders_as_target_and_source(tiny_run, tiny_world, tmp_path):
    summary = retarget(tiny_run, tmp_path / "out.mp4", "--target", str(tiny_world / "eval-000"),
                       "--source", str(tiny_world / "train-000"))  # fmt: skip
    assert summary["frames"] == SOURCE_FRAMES and summary["k"] == 2

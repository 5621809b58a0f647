"""Every bad input to ``metaframe retarget`` is one line on stderr, exit code 2, and no file under the output's
name (nor a temporary one beside it); an interrupted render leaves nothing either."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import metaframe_video.retarget.render as retarget_module
from metaframe.testing import run_cli
from tests.retarget.conftest import dancer, write_frames, write_mp4, write_openpose

SYNTHETIC = ["--target", "synthetic:eval-000", "--source", "synthetic:train-000"]


@pytest.fixture(scope="module")
def sine_run(tmp_path_factory) -> Path:
    """A finished run of a model that draws no images."""
    out = tmp_path_factory.mktemp("sine") / "run"
    args = ["--model", "mlp", "--task", "sine", "--meta-iterations", "1", "--k", "2", "--t", "1", "--quiet"]
    assert run_cli(["run", "reptile", *args, "--device", "cpu", "--out", str(out)]).exit_code == 0
    return out


def nobody(folder: Path, world: Path) -> list[str]:
    """A target whose frames have no one in them (OpenPose found nobody)."""
    frames, keypoints = dancer(world, "eval-001")
    keypoints[..., 2] = 0
    write_frames(folder / "frames", frames[:4])
    write_openpose(folder / "openpose", keypoints[:4])
    return ["--target", str(folder / "frames"), "--target-keypoints", str(folder / "openpose"), "--source",
            "synthetic:train-000"]  # fmt: skip


def one_photo(folder: Path, world: Path) -> list[str]:
    """One photo as the target, with more K asked for than it has frames."""
    frames, keypoints = dancer(world, "eval-001")
    write_frames(folder / "photo", frames[:1])
    write_openpose(folder / "openpose", keypoints[:1])
    return ["--target", str(folder / "photo" / "frame_0000.png"), "--target-keypoints", str(folder / "openpose"),
            "--source", "synthetic:train-000", "--k", "3"]  # fmt: skip


def unknown_layout(folder: Path, world: Path) -> list[str]:
    """A source whose OpenPose files hold 33 keypoints a person (a layout metaframe does not know)."""
    frames, _ = dancer(world, "eval-001")
    write_frames(folder / "frames", frames[:3])
    (folder / "openpose").mkdir()
    for t in range(3):
        people = [{"pose_keypoints_2d": [10.0] * 99}]
        (folder / "openpose" / f"{t}.json").write_text(json.dumps({"people": people}))
    return ["--target", "synthetic:eval-000", "--source", str(folder / "frames"), "--source-keypoints",
            str(folder / "openpose")]  # fmt: skip


def not_a_video(folder: Path, world: Path) -> list[str]:
    (folder / "clip.mp4").write_text("not a video")
    return ["--target", "synthetic:eval-000", "--source", str(folder / "clip.mp4")]


def no_frames(folder: Path, world: Path) -> list[str]:
    write_mp4(folder / "empty.mp4", np.zeros((0, 32, 32, 3), np.uint8), fps=10)
    return ["--target", "synthetic:eval-000", "--source", str(folder / "empty.mp4")]


def two_people(folder: Path, world: Path) -> list[str]:
    return ["--target", str(world), "--source", "synthetic:train-000"]


def under_a_file(folder: Path, world: Path) -> list[str]:
    (folder / "notes.txt").write_text("a file, not a folder")
    return [*SYNTHETIC, "--out", str(folder / "notes.txt" / "out.mp4")]


NEEDS_OPENCV = {"no person in the target", "K beyond the target", "unknown OpenPose layout", "unreadable video",
                "video without frames"}  # fmt: skip
CASES: dict[str, tuple[Callable[[Path, Path], list[str]], str]] = {
    "no person in the target": (nobody, "no person found in"),
    "K beyond the target": (one_photo, r"--k 3: the target .*frame_0000.png has only 1 frame\(s\); give --k 1"),
    "unknown OpenPose layout": (unknown_layout, "person 0 has 33 keypoints"),
    "unreadable video": (not_a_video, "cannot read .*clip.mp4 as a video"),
    "video without frames": (no_frames, "empty.mp4 has no (video stream|frames that decode)"),
    "dataset of several people": (two_people, "holds 5 people"),
    "unknown dancer": (lambda f, w: ["--target", "synthetic:eval-099", "--source", "synthetic:train-000"],
                       "unknown synthetic dancer 'eval-099'; choose one of train-000 … train-002, eval-000 … eval-001"),
    "missing target": (lambda f, w: ["--target", str(f / "me.mp4"), "--source", "synthetic:train-000"],
                       "does not exist"),
    "empty target": (lambda f, w: ["--target", "", "--source", "synthetic:train-000"], "--target is empty: give a"),
    "folder without frames": (lambda f, w: ["--target", str(f / "x.mp4"), "--source", "synthetic:train-000"],
                              "x.mp4 holds no frame; give a photo, a video or a folder of frames"),
    "output under a file": (under_a_file, "is not a writable folder"),
    "output not mp4": (lambda f, w: [*SYNTHETIC, "--out", str(f / "out.avi")], "give a name ending in .mp4"),
    "output is a folder": (lambda f, w: [*SYNTHETIC, "--out", str(f / "x.mp4")], "is a (folder|directory)"),
    "init not a run": (lambda f, w: [*SYNTHETIC, "--init", str(f)], "holds no run"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_writes_nothing(case, tiny_run, tiny_world, tmp_path):
    if case in NEEDS_OPENCV:
        pytest.importorskip("cv2", reason="preparing footage needs OpenCV (pip install 'metaframe[pose]')")
    make, message = CASES[case]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "x.mp4").mkdir()
    args = make(folder, tiny_world)
    out = folder / "out.mp4"
    result = run_cli(["retarget", "--init", str(tiny_run), "--out", str(out), "--quiet", *args])
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert re.search(message, lines[0]), lines[0]
    assert not out.exists() and not out.with_suffix(".json").exists() and not list(folder.glob(".out.mp4.*"))


def test_a_model_that_draws_no_images_is_refused(sine_run, tmp_path):
    out = tmp_path / "out.mp4"
    result = run_cli(["retarget", "--init", str(sine_run), *SYNTHETIC, "--out", str(out), "--quiet"])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "model 'mlp' does not render images from poses (capability 'render')" in result.stderr
    assert not out.exists()


def test_an_interrupted_render_leaves_no_file(tiny_run, tmp_path, monkeypatch):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"an older video")  # replaced only by a complete one
    calls = []

    def interrupt_second_chunk(images):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(images)

    real = retarget_module.to_uint8
    monkeypatch.setattr(retarget_module, "to_uint8", interrupt_second_chunk)
    result = run_cli(["retarget", "--init", str(tiny_run), *SYNTHETIC, "--out", str(out), "--quiet"])
    assert result.exit_code == 130 and len(calls) == 2
    assert out.read_bytes() == b"an older video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]  # no temporary file, no summary

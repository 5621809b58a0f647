"""``metaframe_video.retarget.retarget`` equals ``metaframe retarget``: the same input run both ways gives the
same frames, contact sheet and numbers, and a mistake raises UsageError with the line the command prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import numpy as np
import pytest

import metaframe_video.retarget
from metaframe.api import UsageError
from metaframe.testing import run_cli
from tests.test_python_api import SESSION_BLOCK

TIMINGS = ("personalization_seconds", "rendering_seconds", "rendering_fps", "model_fps")  # differ run to run
WHERE = ("output", "contact_sheet", "target_sheet")  # each side writes its own files


def frames_of(path) -> np.ndarray:
    """Every decoded frame of a video, as one array."""
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def comparable(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if key not in TIMINGS + WHERE}


def test_the_function_makes_what_the_command_makes(tiny_run, tmp_path):
    options = {"target": "synthetic:eval-000", "source": "synthetic:train-001", "k": 2, "max_frames": 6}
    made = metaframe_video.retarget.retarget(tiny_run, **options, out=tmp_path / "api.mp4", side_by_side=True)
    args = ["--target", "synthetic:eval-000", "--source", "synthetic:train-001", "--k", "2", "--max-frames", "6"]
    printed = run_cli(["retarget", "--init", str(tiny_run), *args, "--side-by-side", "--quiet",
                       "--out", str(tmp_path / "cli.mp4")])  # fmt: skip
    assert printed.exit_code == 0, printed.stderr
    summary = json.loads(printed.stdout)
    assert isinstance(made, metaframe_video.retarget.Retargeted)
    assert made.video == tmp_path / "api.mp4" == made.side_by_side and made.contact_sheet == tmp_path / "api.png"
    assert made.frames == summary["frames"] == 6 and made.fps == summary["fps"]
    assert made.personalization_seconds > 0 and made.rendering_fps > 0
    assert comparable(made.summary) == comparable(summary)
    assert json.loads((tmp_path / "api.json").read_text()) == made.summary
    assert np.array_equal(frames_of(made.video), frames_of(tmp_path / "cli.mp4"))
    assert made.contact_sheet.read_bytes() == (tmp_path / "cli.png").read_bytes()
    assert made.target_sheet == tmp_path / "api-target.png"
    assert made.target_sheet.read_bytes() == (tmp_path / "cli-target.png").read_bytes()


def test_on_progress_follows_personalization_then_rendering(tiny_run, tmp_path):
    told = []
    options = {"target": "synthetic:eval-000", "source": "synthetic:train-000", "t": 3, "max_frames": 20}
    listen = lambda *seen: told.append(seen)  # noqa: E731
    metaframe_video.retarget.retarget(tiny_run, **options, out=tmp_path / "a.mp4", on_progress=listen)
    assert told[:4] == [("personalize", 0, 3), ("personalize", 1, 3), ("personalize", 2, 3), ("personalize", 3, 3)]
    assert told[4:] == [("render", 0, 20), ("render", 16, 20), ("render", 20, 20)]  # drawn 16 frames at a time


def test_without_side_by_side_there_is_no_side_by_side_path(tiny_run, tmp_path):
    made = metaframe_video.retarget.retarget(
        tiny_run, target="synthetic:eval-000", source="synthetic:train-000", max_frames=2, out=tmp_path / "a.mp4"
    )
    assert made.side_by_side is None and made.frames == 2


@pytest.mark.parametrize(
    ("kwargs", "args"),
    [
        ({"target": " ", "source": "synthetic:train-000"}, ["--target", " ", "--source", "synthetic:train-000"]),
        ({"target": "synthetic:eval-000", "source": "synthetic:train-000", "k": 0},
         ["--target", "synthetic:eval-000", "--source", "synthetic:train-000", "--k", "0"]),
        ({"target": "synthetic:eval-000", "source": "synthetic:train-000", "out": "x.avi"},
         ["--target", "synthetic:eval-000", "--source", "synthetic:train-000", "--out", "x.avi"]),
    ],
)  # fmt: skip
def test_a_mistake_raises_usage_error_with_the_line_the_command_prints(tiny_run, tmp_path, monkeypatch, kwargs, args):
    monkeypatch.chdir(tmp_path)
    printed = run_cli(["retarget", "--init", str(tiny_run), *args])
    assert printed.exit_code == 2
    with pytest.raises(UsageError) as raised:
        metaframe_video.retarget.retarget(tiny_run, **kwargs)
    assert f"error: {raised.value}" == printed.stderr.strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_python_api_howto_block_runs_as_written(tiny_run, tmp_path, monkeypatch, capsys):
    page = (Path(__file__).parents[2] / "docs" / "howto" / "python-api.md").read_text()
    (block,) = [code for marker, code in re.findall(SESSION_BLOCK, page, re.DOTALL) if "test_retarget_python" in marker]
    monkeypatch.chdir(tmp_path)
    exec(compile(block.replace('"runs/metapix"', repr(str(tiny_run))), "python-api.md", "exec"), {})  # noqa: S102
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dance-target.png", "dance.json", "dance.mp4", "dance.png"]
    assert "dance.mp4 24 30.0" in capsys.readouterr().out

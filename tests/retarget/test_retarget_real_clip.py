"""``metaframe retarget`` with a real clip as the source: ``../shared/data/sports2d-demo.mp4`` (two people,
1768×994, MediaPipe follows the largest), prepared on the fly. The short stretch runs by default; the whole
clip is a slow test (MediaPipe reads 230 full-HD frames)."""

from __future__ import annotations

import json

import av
import pytest

from metaframe.testing import run_cli
from tests.retarget.conftest import read_video
from tests.video.conftest_prepare import need_mediapipe, need_sports2d


def clip_rate_and_frames() -> tuple[float, int]:
    """The real clip's frame rate and frame count, as PyAV reads them."""
    with av.open(str(need_sports2d())) as container:
        stream = container.streams.video[0]
        return float(stream.average_rate), sum(1 for _ in container.decode(stream))


def retarget_real(run, out, *args):
    need_mediapipe()
    clip = need_sports2d()
    result = run_cli(["retarget", "--init", str(run), "--target", "synthetic:eval-000", "--source", str(clip),
                      "--out", str(out), "--side-by-side", "--quiet", *args])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_a_stretch_of_the_real_clip(tiny_run, tmp_path):
    out = tmp_path / "real.mp4"
    summary = retarget_real(tiny_run, out, "--max-frames", "8")
    rate, _ = clip_rate_and_frames()
    frames, fps, width, height = read_video(out)
    assert frames == summary["frames"] == 8 and fps == pytest.approx(rate, rel=1e-3)
    assert width == 3 * height
    assert summary["frames_without_pose"] < 8 and summary["normalization"]["source"]["height"] > 0


@pytest.mark.slow
def test_the_whole_real_clip(tiny_run, tmp_path):
    out = tmp_path / "real.mp4"
    summary = retarget_real(tiny_run, out)
    rate, count = clip_rate_and_frames()
    frames, fps, width, height = read_video(out)
    assert frames == summary["frames"] == count and fps == pytest.approx(rate, rel=1e-3)
    assert width == 3 * height

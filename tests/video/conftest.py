"""Fixtures of the video-shot tests: a tiny synthetic world and hand-made datasets in the shared format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from metaframe.testing import from_table
from metaframe_video.dataset import write_index, write_shot
from metaframe_video.task import video_shot
from metaframe_video.task.video_shot import TEST_OPTIONS, VideoShotOptions, VideoShotTasks

build = from_table(video_shot.build, VideoShotOptions, "task")

TINY: dict[str, Any] = dict(TEST_OPTIONS)  # 3 + 2 identities × 24 frames at 32 px
"""The smallest synthetic world: what the contract tests use too."""


@pytest.fixture
def tiny_sampler():
    """``make(k=2, **options)``: a video-shot sampler over the tiny synthetic world (rendered once per session)."""

    def make(k: int = 2, **options: Any) -> VideoShotTasks:
        sampler = build({**TINY, **options}, k=k)
        sampler.load()
        return sampler

    return make


def make_dataset(
    root: Path, shots: list[tuple[str, str, int]], size: int = 48, splits: dict[str, str] | None = None
) -> Path:
    """A dataset in the shared format: ``shots`` is (video, identity, frames); keypoints at random positions.

    Each frame is a flat colour that encodes its index (red channel) so tests can tell frames apart.
    """
    rng = np.random.default_rng(0)
    videos: dict[str, dict[str, Any]] = {}
    for video, identity, count in shots:
        frames = np.zeros((count, size, size, 3), dtype=np.uint8)
        frames[..., 0] = np.arange(count, dtype=np.uint8)[:, None, None]
        keypoints = np.concatenate([rng.uniform(4, size - 4, (count, 17, 2)), np.ones((count, 17, 1))], axis=-1)
        entry = videos.setdefault(video, {"id": video, "identity": identity, "shots": []})
        if splits and video in splits:
            entry["split"] = splits[video]
        entry["shots"].append(write_shot(root, video, f"shot-{len(entry['shots']):03d}", frames, keypoints))
    write_index(root, size, list(videos.values()))
    return root

"""tools/tuning_set.py: training dancers relabelled as the held-out split; evaluation dancers refused."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "tuning_set.py"


SPEC = importlib.util.spec_from_file_location("tuning_set", TOOL)
tuning_set = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(tuning_set)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    source = tmp_path / "rendered"
    splits = {"train-000": "train", "train-001": "train", "train-002": "train", "eval-000": "eval"}
    for name in splits:
        (source / name).mkdir(parents=True)
    videos = [{"id": name, "identity": name, "split": split, "shots": []} for name, split in splits.items()]
    index = {"format": "metaframe-video/1", "keypoints": "coco17", "size": 32, "videos": videos}
    (source / "dataset.json").write_text(json.dumps(index))
    return source


def test_training_dancers_become_the_held_out_split_and_evaluation_dancers_are_left_out(dataset, tmp_path):
    written = tuning_set.make(dataset, ["train-001"], tmp_path / "tune")
    videos = {video["id"]: video["split"] for video in json.loads(written.read_text())["videos"]}
    assert videos == {"train-000": "train", "train-001": "eval", "train-002": "train"}
    assert (tmp_path / "tune" / "train-001").resolve() == (dataset / "train-001").resolve()


@pytest.mark.parametrize(
    ("hold_out", "message"),
    [(["eval-000"], "held out in"), (["train-009"], "no such video"), ([], "names no video")],
)
def test_refusals(dataset, tmp_path, hold_out, message):
    with pytest.raises(SystemExit, match=message):
        tuning_set.make(dataset, hold_out, tmp_path / "tune")
    assert not (tmp_path / "tune").exists()

"""Damaged dataset folders the ``video-shot`` task refuses: one line, exit 2, nothing written (the
harness: ``tests/bad_input.py``; the core's table: ``tests/test_bad_input.py``)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bad_input import Refusal, refusals

VIDEO = ["run", "reptile", "--model", "pose2im", "--task", "video-shot"]
DATASETS = {
    "escape": {
        "format": "metaframe-video/1",
        "videos": [{"id": "../../../../etc", "shots": [{"id": "s", "frames": 3}]}],
    },
    "torn": '{"format": "metaframe-video/1", "videos": [',
}

CASES: dict[str, Refusal] = {
    "dataset id escapes": (
        [*VIDEO, "--set", "task.data=escape"],
        "escape/dataset.json: video id '../../../../etc' is not a plain folder name inside the dataset",
    ),
    "dataset.json damaged": (
        [*VIDEO, "--set", "task.data=torn"],
        "torn/dataset.json is damaged (Expecting value: line 1 column 44 (char 43)); prepare the dataset again",
    ),
}


def damaged_datasets(folder: Path) -> None:
    for name, index in DATASETS.items():
        (folder / name).mkdir()
        (folder / name / "dataset.json").write_text(index if isinstance(index, str) else json.dumps(index))


test_bad_dataset_is_one_line_and_leaves_nothing = refusals(CASES, damaged_datasets)

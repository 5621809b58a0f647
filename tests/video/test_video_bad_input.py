"""Damaged dataset folders the ``video-shot`` task refuses: one line, exit 2, nothing written (the
harness: ``tests/bad_input.py``; the core's table: ``tests/test_bad_input.py``)."""

from __future__ import annotations

import json

import pytest

from tests.bad_input import assert_refused, user_files

VIDEO = ["run", "reptile", "--model", "pose2im", "--task", "video-shot"]

CASES: dict[str, list[str]] = {
    "dataset id escapes": [*VIDEO, "--set", "task.data=escape"],
    "dataset.json damaged": [*VIDEO, "--set", "task.data=torn"],
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = user_files(tmp_path_factory.mktemp("video-bad-input"))
    for name, index in {
        "escape": {"format": 1, "videos": [{"id": "../../../../etc", "shots": [{"id": "s", "frames": 3}]}]},
        "torn": '{"format": 1, "videos": [',
    }.items():
        (folder / name).mkdir()
        (folder / name / "dataset.json").write_text(index if isinstance(index, str) else json.dumps(index))
    return folder


@pytest.mark.parametrize("case", list(CASES))
def test_bad_dataset_is_one_line_and_leaves_nothing(plugins, folder, case):
    assert_refused(folder, CASES[case])

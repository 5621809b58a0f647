"""Bad input the ``pose2im`` model refuses (its memory estimate): one line, exit 2, nothing written (the
harness: ``tests/bad_input.py``; the core's table: ``tests/test_bad_input.py``)."""

from __future__ import annotations

import pytest

from tests.bad_input import assert_refused, user_files

VIDEO = ["run", "reptile", "--model", "pose2im", "--task", "video-shot"]

CASES: dict[str, list[str]] = {
    "image that cannot fit": [
        *VIDEO,
        "--set",
        "model.init=none",
        "--set",
        "model.size=8192",
        "--set",
        "task.size=8192",
    ],  # fmt: skip
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return user_files(tmp_path_factory.mktemp("pose2im-bad-input"))


@pytest.mark.parametrize("case", list(CASES))
def test_bad_pose2im_input_is_one_line_and_leaves_nothing(plugins, folder, case):
    assert_refused(folder, CASES[case])

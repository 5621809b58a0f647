"""Bad input the ``pose2im`` model refuses (its memory estimate): one line, exit 2, nothing written (the
harness: ``tests/bad_input.py``; the core's table: ``tests/test_bad_input.py``)."""

from __future__ import annotations

from tests.bad_input import Refusal, refusals

VIDEO = ["run", "reptile", "--model", "pose2im", "--task", "video-shot"]
HUGE = ["--set", "model.init=none", "--set", "model.size=8192", "--set", "task.size=8192"]

CASES: dict[str, Refusal] = {
    "image that cannot fit": (
        [*VIDEO, *HUGE],
        "one inner step of model pose2im at K=5 needs about 1625.0 GiB, more than",
    ),
}

test_bad_pose2im_input_is_one_line_and_leaves_nothing = refusals(CASES)

"""Bad values of the toy plugin's own options (``mlp``, ``sine``) and the ``mlp``'s memory estimate: one
line, exit 2, nothing written (the harness: ``tests/bad_input.py``; the core's table: ``tests/test_bad_input.py``)."""

from __future__ import annotations

import pytest

from tests.bad_input import assert_refused, user_files

SINE = ["--model", "mlp", "--task", "sine", "--meta-iterations", "2", "--k", "4", "--t", "2", "--quiet"]
RUN = ["run", "reptile", *SINE, "--device", "cpu", "--out", "new"]

CASES: dict[str, list[str]] = {
    "unknown option": [*RUN, "--set", "model.widht=3"],
    "lr nan": [*RUN, "--set", "model.lr=nan"],
    "lr inf": [*RUN, "--set", "model.lr=inf"],
    "lr negative": [*RUN, "--set", "model.lr=-1"],
    "range as a scalar": [*RUN, "--set", "task.amplitude=5"],
    "reversed range": [*RUN, "--set", "task.amplitude=5,1"],
    "no query points": [*RUN, "--set", "task.query=0"],
    "zero-width model": [*RUN, "--set", "model.hidden=0"],
    "K that cannot fit": [*RUN, "--k", "100000000000"],
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return user_files(tmp_path_factory.mktemp("toy-bad-input"))


@pytest.mark.parametrize("case", list(CASES))
def test_bad_toy_input_is_one_line_and_leaves_nothing(plugins, folder, case):
    assert_refused(folder, CASES[case])

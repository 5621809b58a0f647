"""Bad values of the built-in algorithms' own options: one line, exit 2, nothing written (the harness:
``tests/bad_input.py``; the core's table: ``tests/test_bad_input.py``). Run on the fixture plugins."""

from __future__ import annotations

import pytest

from tests.bad_input import assert_refused, user_files

POINTS = ["--model", "quadratic", "--task", "points", "--meta-iterations", "2", "--k", "4", "--t", "2", "--quiet"]

CASES: dict[str, list[str]] = {
    "epsilon above 1": ["run", "reptile", *POINTS, "--device", "cpu", "--out", "new", "--set", "algorithm.epsilon=2"],
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return user_files(tmp_path_factory.mktemp("algorithms-bad-input"))


@pytest.mark.parametrize("case", list(CASES))
def test_bad_algorithm_option_is_one_line_and_leaves_nothing(plugins, folder, case):
    assert_refused(folder, CASES[case])

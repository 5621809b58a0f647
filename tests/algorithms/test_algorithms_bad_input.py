"""Bad values of the built-in algorithms' own options: one line, exit 2, nothing written (the harness:
``tests/bad_input.py``; the core's table: ``tests/test_bad_input.py``). Run on the fixture plugins."""

from __future__ import annotations

from tests.bad_input import Refusal, refusals

POINTS = ["--model", "quadratic", "--task", "points", "--meta-iterations", "2", "--k", "4", "--t", "2", "--quiet"]
RUN = ["run", "reptile", *POINTS, "--device", "cpu", "--out", "new"]

CASES: dict[str, Refusal] = {
    "epsilon above 1": (
        [*RUN, "--set", "algorithm.epsilon=2"],
        "bad algorithm options: epsilon must be in (0, 1], got 2.0",
    ),
}

test_bad_algorithm_option_is_one_line_and_leaves_nothing = refusals(CASES)

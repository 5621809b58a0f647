"""Bad values of the toy plugin's own options (``mlp``, ``sine``) and the ``mlp``'s memory estimate: one
line, exit 2, nothing written (the harness: ``tests/bad_input.py``; the core's table: ``tests/test_bad_input.py``)."""

from __future__ import annotations

from tests.bad_input import Refusal, refusals

SINE = ["--model", "mlp", "--task", "sine", "--meta-iterations", "2", "--k", "4", "--t", "2", "--quiet"]
RUN = ["run", "reptile", *SINE, "--device", "cpu", "--out", "new"]

CASES: dict[str, Refusal] = {
    "unknown option": (
        [*RUN, "--set", "model.widht=3"],
        "unknown option model.widht; known: beta1, hidden, lr, optimizer",
    ),
    "lr nan": ([*RUN, "--set", "model.lr=nan"], "model.lr must be a finite number, got 'nan'"),
    "lr inf": ([*RUN, "--set", "model.lr=inf"], "model.lr must be a finite number, got 'inf'"),
    "lr negative": (
        [*RUN, "--set", "model.lr=-1"],
        "bad model options: lr must be positive and beta1 in [0, 1), got lr=-1.0",
    ),
    "range as a scalar": (
        [*RUN, "--set", "task.amplitude=5"],
        "task.amplitude takes 2 values separated by commas (e.g. 1,1), got ['5']",
    ),
    "reversed range": (
        [*RUN, "--set", "task.amplitude=5,1"],
        "bad task options: amplitude is a range LOW,HIGH with LOW <= HIGH, got 5.0,1.0",
    ),
    "no query points": (
        [*RUN, "--set", "task.query=0"],
        "bad task options: query and eval_tasks must be at least 1, got 0 and 100",
    ),
    "zero-width model": (
        [*RUN, "--set", "model.hidden=0"],
        "bad model options: hidden needs one or more widths of at least 1, got (0,)",
    ),
    "K that cannot fit": (
        [*RUN, "--k", "100000000000"],
        "one inner step of model mlp at K=100000000000 needs about 242888.9 GiB",
    ),
}

test_bad_toy_input_is_one_line_and_leaves_nothing = refusals(CASES)

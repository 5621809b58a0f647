"""Every bad input is one line on stderr, exit 2, no traceback, nothing left behind, nothing changed.

Table-driven, on the fixture plugins (the ``quadratic`` model, the ``points`` task; ``reptile`` as the
algorithm): each case is a command line run in a folder that holds a finished run (``good``), a folder
of the user's own files (``mine``) and a few broken files. Cases whose name starts with a run folder's
name get a fresh copy of ``good`` under that name, broken by the case's ``breaks``. The bad inputs of
the built-in plugins' own options and files are in their folders (``tests/toy/``, ``tests/algorithms/``,
``tests/pose2im/``, ``tests/video/``), through the same harness (``tests/bad_input.py``).
"""

from __future__ import annotations

import json
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from metaframe.plugins import load_plugins
from metaframe.run_folder import RunFolder
from metaframe.testing import run_cli
from tests.bad_input import Refusal, assert_refused, user_files
from tests.plugins import keyed, quadratic

POINTS = ["--model", "quadratic", "--task", "points", "--meta-iterations", "2", "--k", "4", "--t", "2", "--quiet"]
RUN = ["run", "reptile", *POINTS, "--device", "cpu", "--out", "new"]


class Payload:
    """Pickles into a call: what a malicious resume.pt would hold."""

    def __reduce__(self) -> tuple:
        return (print, ("unpickled!",))


def damage(name: str, write: Callable[[Path], None]) -> Callable[[Path], None]:
    return lambda folder: write(folder / name)


BREAKS: dict[str, Callable[[Path], None]] = {
    "badjson": damage("run.json", lambda p: p.write_text("{garbage")),
    "noconfig": damage("run.json", lambda p: p.write_text('{"status": "finished"}')),
    "truncated": damage("resume.pt", lambda p: p.write_bytes(p.read_bytes()[:50])),
    "pickled": damage("resume.pt", lambda p: p.write_bytes(pickle.dumps(Payload()))),
    "oldformat": damage("resume.pt", lambda p: torch.save({"iteration": 2, "algorithm": {}}, p)),
    "diverged": damage(
        "model.safetensors", lambda p: save_file({k: v * torch.nan for k, v in load_file(p).items()}, p)
    ),
}

CASES: dict[str, Refusal] = {
    # names
    "unknown algorithm": (["run", "reptil", *POINTS], "unknown algorithm 'reptil'; did you mean reptile, pretrain?"),
    "unknown model": (
        ["run", "reptile", "--model", "quadratc", "--task", "points"],
        "unknown model 'quadratc'; did you mean quadratic, quadratic-plain?",
    ),
    "unknown task": (
        ["run", "reptile", "--model", "quadratic", "--task", "pointz"],
        "unknown task 'pointz'; did you mean points?",
    ),
    "unknown preset": ([*RUN, "--preset", "nope"], "unknown preset 'nope'"),
    "unknown option": ([*RUN, "--set", "model.lrr=3"], "unknown option model.lrr; did you mean model.lr?"),
    "unknown section": (
        [*RUN, "--set", "modle.lr=3"],
        "--set modle.lr: the part before the dot must be one of algorithm, model, task",
    ),
    "not an assignment": ([*RUN, "--set", "k"], "--set expects KEY=VALUE (e.g. model.scale=tiny), got 'k'"),
    # values
    "k zero": ([*RUN, "--k", "0"], "Invalid value for '--k': Input should be greater than or equal to 1"),
    "setting not a number": ([*RUN, "--set", "log_every=many"], "run.log_every must be an integer, got 'many'"),
    "option not a number": ([*RUN, "--set", "task.dim=three"], "task.dim must be an integer, got 'three'"),
    "option out of range": ([*RUN, "--set", "task.dim=0"], "bad task options: dim must be at least 1, got 0"),
    "option not finite": ([*RUN, "--set", "model.lr=nan"], "model.lr must be a finite number, got 'nan'"),
    "unknown schedule": (
        [*RUN, "--set", "inner_schedule=fast"],
        "inner_schedule must be hold-then-decay, constant, linear, got 'fast'",
    ),
    "removed schedule": (
        [*RUN, "--set", "inner_schedule=paper"],
        "inner_schedule 'paper' was removed in 0.2.0; use hold-then-decay",
    ),
    "seed beyond 64 bits": ([*RUN, "--seed", str(2**70)], f"seed must be between 0 and 2**63 - 1, got {2**70}"),
    "negative seed": ([*RUN, "--set", "seed=-1"], "seed must be between 0 and 2**63 - 1, got -1"),
    "K that cannot fit": (
        [*RUN, "--k", "100000000000"],
        "one inner step of model quadratic at K=100000000000 needs about 4470.3 GiB",
    ),
    "model needs a key the task lacks": (
        ["run", "reptile", "--model", "depth-regressor", *POINTS[2:], "--out", "new"],
        "model 'depth-regressor' needs batch key 'x', which task 'points' does not yield",
    ),
    # files
    "config missing": ([*RUN, "--config", "nothing.toml"], "config file nothing.toml does not exist"),
    "config binary": (
        [*RUN, "--config", "garbage.toml"],
        "config file garbage.toml is not text (TOML is UTF-8); give a .toml file",
    ),
    "config not toml": (
        [*RUN, "--config", "broken.toml"],
        "config file broken.toml is not valid TOML: Invalid value (at line 1, column 5)",
    ),
    "init missing": ([*RUN, "--init", "nothing.safetensors"], "no weights at nothing.safetensors; give a run folder"),
    "init not safetensors": ([*RUN, "--init", "garbage.toml"], "cannot read weights garbage.toml: "),
    "eval json is a folder": (
        ["eval", "--init", "good", "--json", "mine"],
        "--json mine is a folder; give a file name, e.g. mine/results.json",
    ),
    "compare json is a folder": (
        ["compare", "reptile", *POINTS, "--out", "new", "--json", "mine"],
        "--json mine is a folder; give a file name",
    ),
    "compare without a model": (
        ["compare", "reptile", "--task", "points", "--out", "new"],
        "give --model and --task, the same for every algorithm",
    ),
    "eval init missing": (
        ["eval", "--init", "runs/does-not-exist", "--init", "random"],
        "--init runs/does-not-exist: no run folder or weights file there",
    ),
    # devices
    "device meta": ([*RUN, "--device", "meta"], "--device must be auto, cpu, cuda or cuda:N, got 'meta'"),
    "device tpu": ([*RUN, "--device", "tpu"], "--device must be auto, cpu, cuda or cuda:N, got 'tpu'"),
    # run folders
    "out is a file": ([*RUN[:-1], "garbage.toml"], "--out garbage.toml is a file, not a folder; choose another --out"),
    "out holds my files": (
        [*RUN[:-1], "mine"],
        "mine holds files metaframe did not write (model.safetensors); choose another --out",
    ),
    "out holds a run": (
        [*RUN[:-1], "good"],
        "good already holds a run; pass --resume to continue it or choose another --out",
    ),
    "out name too long": ([*RUN[:-1], "x" * 300], "/run.json: File name too long; check the path"),
    "resume without out": (
        ["run", "reptile", "--resume"],
        "--resume needs --out RUN_DIR, the folder of the run to continue",
    ),
    "resume nothing": (["run", "reptile", "--out", "mine", "--resume"], "mine holds no run (no run.json)"),
    "resume other algorithm": (
        ["run", "fomaml", "--out", "good", "--resume"],
        "--resume: the run in good has algorithm=reptile, not algorithm=fomaml",
    ),
    "resume other model": (
        ["run", "reptile", "--model", "quadratic-plain", "--out", "good", "--resume"],
        "--resume: the run in good has model=quadratic, not model=quadratic-plain",
    ),
    "resume other k": (
        ["run", "reptile", "--out", "good", "--resume", "--k", "8"],
        "--resume: the run in good has k=4, not k=8",
    ),
    "resume other option": (
        ["run", "reptile", "--out", "good", "--resume", "--set", "model.lr=0.5"],
        "--resume: the run in good has model.lr at its default, not model.lr=0.5",
    ),
    "resume fewer iterations": (
        ["run", "reptile", "--out", "good", "--resume", "--meta-iterations", "1"],
        "--meta-iterations 1 is fewer than the 2 this run has done; give 2 or more",
    ),
    "resume with init": (
        ["run", "reptile", "--out", "good", "--resume", "--init", "good"],
        "--init cannot be given with --resume",
    ),
    "badjson: resume": (["run", "reptile", "--out", "badjson", "--resume"], "badjson/run.json is damaged ("),
    "badjson: eval": (["eval", "--init", "badjson"], "badjson/run.json is damaged ("),
    "noconfig: resume": (
        ["run", "reptile", "--out", "noconfig", "--resume"],
        "noconfig/run.json is not a metaframe run record (no configuration in it)",
    ),
    "truncated: resume": (
        ["run", "reptile", "--out", "truncated", "--resume", "--meta-iterations", "3"],
        "truncated/resume.pt cannot be read as resume state (",
    ),
    "pickled: resume": (
        ["run", "reptile", "--out", "pickled", "--resume", "--meta-iterations", "3"],
        "pickled/resume.pt holds objects other than tensors, numbers and strings, and metaframe never unpickles them",
    ),
    "oldformat: resume": (
        ["run", "reptile", "--out", "oldformat", "--resume", "--meta-iterations", "3"],
        "oldformat/resume.pt has format 1, not 2 (written by another metaframe version)",
    ),
    "diverged: eval": (
        ["eval", "--init", "diverged"],
        "diverged/model.safetensors: tensor 'point.w' holds NaN or infinite values",
    ),
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    folder = user_files(tmp_path_factory.mktemp("bad-input"))
    fixtures = load_plugins(extra=[("quadratic", quadratic), ("keyed", keyed)])
    done = run_cli(["run", "reptile", *POINTS, "--device", "cpu", "--out", str(folder / "good")], fixtures)
    assert done.exit_code == 0, done.stderr
    return folder


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_one_line_and_leaves_nothing(plugins, workspace, case):
    prefix = case.split(":")[0]
    if prefix in BREAKS:
        shutil.rmtree(workspace / prefix, ignore_errors=True)
        shutil.copytree(workspace / "good", workspace / prefix)
        BREAKS[prefix](workspace / prefix)
    assert_refused(workspace, *CASES[case])


def test_a_diverging_run_stops_naming_the_iteration_is_marked_failed_and_keeps_its_good_checkpoint(plugins, tmp_path):
    out = tmp_path / "run"
    args = ["run", "reptile", *POINTS, "--meta-iterations", "30", "--set", "checkpoint_every=1", "--out", str(out)]
    result = run_cli([*args, "--set", "model.lr=1e5"])  # SGD far past 2/curvature: diverges at iteration 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert result.exit_code == 2 and len(errors) == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == errors[0] and "Traceback" not in result.stderr
    assert errors[0].startswith("error: meta-iteration 2: loss is ") and "run.json says failed" in errors[0]
    assert "the checkpoint after meta-iteration 2 is kept" in errors[0]
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "failed" and "diverged" in record["reason"]
    kept = load_file(out / "model.safetensors")
    assert all(torch.isfinite(v).all() for v in kept.values()), "the checkpoint kept is a good one"
    assert RunFolder(out).load_checkpoint()["iteration"] == 2

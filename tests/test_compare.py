"""compare checks every algorithm before training any, and an interrupted comparison resumes."""

from __future__ import annotations

import json

import metaframe.training
from metaframe.testing import run_cli

QUICK = ["--meta-iterations", "2", "--k", "3", "--t", "2", "--quiet"]


def test_an_algorithm_the_model_cannot_serve_is_refused_before_any_training(plugins, tmp_path):
    out = tmp_path / "cmp"
    args = ["compare", "reptile", "maml", "--model", "quadratic-plain", "--task", "points", *QUICK, "--out", str(out)]
    result = run_cli(args)
    assert result.exit_code == 2 and "algorithm 'maml' needs the model capability functional" in result.stderr
    assert not out.exists(), "nothing trained, nothing written"


def test_an_interrupted_comparison_resumes_and_keeps_finished_runs(plugins, tmp_path, monkeypatch):
    out = tmp_path / "cmp"
    args = [
        "compare",
        "reptile",
        "pretrain",
        "--model",
        "mlp",
        "--task",
        "sine",
        *QUICK,
        "--set",
        "task.eval_tasks=2",
        "--out",
        str(out),
    ]
    original, trained = metaframe.training.train, []

    def stop_at_the_second(training, show_progress=True):
        trained.append(training.setup.config.algorithm)
        if len(trained) == 2:  # Ctrl-C as the second run starts; a process that ends lets go of its lock
            training.folder.unlock()
            raise KeyboardInterrupt
        return original(training, show_progress)

    monkeypatch.setattr("metaframe.comparison.train", stop_at_the_second)
    assert run_cli(args).exit_code == 130
    assert json.loads((out / "reptile" / "run.json").read_text())["status"] == "finished"
    monkeypatch.setattr("metaframe.comparison.train", original)
    again = run_cli([*args, "--resume"])
    assert again.exit_code == 0, again.stderr
    assert "reptile: finished already" in again.stderr
    rows = json.loads((out / "compare.json").read_text())["rows"]
    assert [row["init"] for row in rows] == [str(out / "reptile"), str(out / "pretrain"), "random"]
    changed = run_cli([*args, "--resume", "--set", "model.lr=0.5"])
    assert changed.exit_code == 2 and "give the options the comparison started with" in changed.stderr

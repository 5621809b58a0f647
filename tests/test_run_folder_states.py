"""run.json always tells how a run ended; a locked folder refuses a second run; a torn metrics line
is dropped on resume."""

from __future__ import annotations

import json

import metaframe_algorithms.reptile as reptile
from metaframe.run_folder import RunFolder
from metaframe.testing import run_cli

SINE = ["--model", "mlp", "--task", "sine", "--meta-iterations", "4", "--k", "4", "--t", "2", "--quiet"]
ARGS = ["run", "reptile", *SINE, "--device", "cpu", "--set", "checkpoint_every=2"]


def test_a_step_that_raises_marks_the_run_failed_with_the_reason(plugins, tmp_path, monkeypatch):
    def broken(self, tasks, iteration):
        raise RuntimeError("the algorithm broke")

    monkeypatch.setattr(reptile.Reptile, "step", broken)
    result = run_cli([*ARGS, "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert "Traceback" in result.stderr and "this is a bug" in result.stderr.strip().splitlines()[-1]
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["status"] == "failed" and record["reason"] == "the algorithm broke"


def test_a_second_process_on_the_same_folder_is_refused(plugins, tmp_path):
    out = tmp_path / "run"
    assert run_cli([*ARGS, "--out", str(out)]).exit_code == 0
    holder = RunFolder(out)
    holder.lock()  # as a running process would hold it (flock is per open file: this conflicts too)
    try:
        result = run_cli(["run", "reptile", "--out", str(out), "--resume", "--meta-iterations", "6"])
    finally:
        holder.unlock()
    assert result.exit_code == 2 and "another metaframe process" in result.stderr
    assert json.loads((out / "run.json").read_text())["iteration"] == 4


def test_a_torn_last_metrics_line_is_dropped_on_resume_saying_so(plugins, tmp_path):
    out = tmp_path / "run"
    assert run_cli([*ARGS, "--out", str(out)]).exit_code == 0
    with (out / "metrics.jsonl").open("a") as metrics:
        metrics.write('{"iteration": 4, "lo')  # a full disk cut the write short
    result = run_cli(["run", "reptile", "--out", str(out), "--resume", "--meta-iterations", "6", "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert "dropped 1 metrics line(s) logged after the checkpoint, the last one cut short" in result.stderr
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [line["iteration"] for line in lines] == list(range(6))


def test_an_extended_run_records_its_new_length(plugins, tmp_path):
    out = tmp_path / "run"
    assert run_cli([*ARGS, "--out", str(out)]).exit_code == 0
    assert run_cli(["run", "reptile", "--out", str(out), "--resume", "--meta-iterations", "6"]).exit_code == 0
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "finished" and record["iteration"] == 6
    assert record["config"]["settings"]["meta_iterations"] == 6

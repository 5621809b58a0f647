"""A run killed (SIGKILL, like a power cut) at any instant resumes to bit-identical final weights.

Each case is a real ``metaframe`` process that kills itself at a crash point (``metaframe.faults``):
inside each checkpoint write, between the checkpoint's files, after a metrics line, before the first
checkpoint. ``--resume`` must then finish the run exactly as an uninterrupted one does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from metaframe.faults import VARIABLE

# fomaml: its outer Adam state must come back too; 6 iterations, a checkpoint every 2
RUN = ["run", "fomaml", "--model", "mlp", "--task", "sine", "--meta-iterations", "6", "--meta-batch", "2"]
RUN += ["--k", "4", "--t", "2", "--set", "checkpoint_every=2", "--set", "task.eval_tasks=2", "--quiet"]
RUN += ["--device", "cpu"]

QUICK = [
    "logged:1",  # before the first checkpoint: resume starts again from 0
    "write:resume.pt:1",  # inside the first checkpoint's one commit
    "wrote:resume.pt:2",  # between the second checkpoint's resume.pt and model.safetensors
    "write:run.json:3",  # inside the update of run.json after a checkpoint
]
THOROUGH = [
    "write:model.safetensors:1",
    "wrote:model.safetensors:2",
    "logged:5",
    "write:resume.pt:3",
    "wrote:resume.pt:3",
    "wrote:run.json:4",
    "write:run.json:5",  # the last one: status finished
]


def metaframe(args: list[str], cwd: Path, crash: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != VARIABLE}
    if crash:
        env[VARIABLE] = crash
    command = [sys.executable, "-m", "metaframe", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("reference")
    done = metaframe([*RUN, "--out", "run"], folder)
    assert done.returncode == 0, done.stderr
    return folder / "run"


def killed_then_resumed(reference: Path, crash: str, folder: Path) -> None:
    killed = metaframe([*RUN, "--out", "run"], folder, crash)
    assert killed.returncode == -signal.SIGKILL, f"{crash} was never reached: {killed.stderr}"
    resumed = metaframe(["run", "fomaml", "--out", "run", "--resume", "--quiet"], folder)
    assert resumed.returncode == 0, resumed.stderr
    expected, got = load_file(reference / "model.safetensors"), load_file(folder / "run" / "model.safetensors")
    assert expected.keys() == got.keys()
    assert all(torch.equal(expected[key], got[key]) for key in expected), f"weights differ after {crash}"
    lines = [json.loads(line) for line in (folder / "run" / "metrics.jsonl").read_text().splitlines()]
    reference_lines = [json.loads(line) for line in (reference / "metrics.jsonl").read_text().splitlines()]
    assert [line["iteration"] for line in lines] == list(range(6))
    assert [line["loss"] for line in lines] == [line["loss"] for line in reference_lines]
    assert json.loads((folder / "run" / "run.json").read_text())["status"] == "finished"


@pytest.mark.parametrize("crash", QUICK)
def test_killed_at_a_crash_point_resumes_bit_identically(reference, crash, tmp_path):
    killed_then_resumed(reference, crash, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("crash", THOROUGH)
def test_killed_anywhere_else_resumes_bit_identically(reference, crash, tmp_path):
    killed_then_resumed(reference, crash, tmp_path)


def test_sigterm_stops_a_run_like_ctrl_c_and_names_the_checkpoint(tmp_path):
    # a long run, stopped by SIGTERM once its second checkpoint is on disk
    args = [*RUN[:7], "400", *RUN[8:], "--out", "run"]
    env = {k: v for k, v in os.environ.items() if k != VARIABLE}
    process = subprocess.Popen(
        [sys.executable, "-m", "metaframe", *args], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    record = tmp_path / "run" / "run.json"
    while process.poll() is None and not (record.exists() and json.loads(record.read_text())["iteration"] >= 4):
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert "checkpoint after meta-iteration" in stderr and "--resume" in stderr
    assert stderr.strip().splitlines()[-1] == "error: interrupted (SIGTERM)"
    stored = json.loads(record.read_text())
    assert stored["status"] == "interrupted" and stored["reason"] == "stopped by SIGTERM"

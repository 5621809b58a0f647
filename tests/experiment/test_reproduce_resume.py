"""A reproduction killed (SIGKILL) in the middle of a training, or between two stages, finishes when the
same command is run again, with the numbers an uninterrupted one gives."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from metaframe.faults import VARIABLE
from metaframe.testing import run_cli

COMMAND = ["reproduce", "metapix", "--scale", "tiny", "--ks", "2", "--ts", "2", "--quiet"]


def reproduce(out, crash=None):
    env = {k: v for k, v in os.environ.items() if k != VARIABLE}
    if crash:
        env[VARIABLE] = crash
    command = [sys.executable, "-m", "metaframe", *COMMAND, "--out", str(out)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("crash", ["meta-step:3", "wrote:stage.json:4"])  # inside the pretraining; after stage 4
def test_killed_reproduction_resumes_to_the_same_numbers(tmp_path, crash, tiny_report):
    out = tmp_path / "tiny"
    killed = reproduce(out, crash)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (out / "report.md").exists()
    partial = run_cli([*COMMAND, "--out", str(out), "--report"])  # what has finished so far, running nothing
    assert partial.exit_code == 0, partial.stderr
    done = 4 if crash.startswith("wrote") else 0
    assert f"**Partial report**: {done} of " in (out / "report.md").read_text()
    finished = reproduce(out)
    assert finished.returncode == 0, finished.stderr
    resumed = json.loads((out / "results.json").read_text())["table1"]
    # the package fixture's run has K and T lists of its own, but Table 1 is the same stages
    assert resumed == json.loads((tiny_report / "results.json").read_text())["table1"]

"""``benchmarks/cuda_check.py --device cpu --quick``: the GPU check's every step at toy size, so the script
that runs once on a lent GPU cannot rot between the times a GPU is there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "cuda_check.py"


def test_the_cpu_dry_run_runs_every_step_and_writes_one_json(tmp_path):
    out = tmp_path / "check.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--device", "cpu", "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=240)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["tests"]["exit_code"] == 0 and "passed" in report["tests"]["summary"]
    assert set(report["pose2im_inner_iteration_ms"]) == {"tiny-fp32", "tiny-bf16"}
    assert all(ms > 0 for ms in report["pose2im_inner_iteration_ms"].values())
    assert "time" in report["algorithms"], report["algorithms"]
    assert report["metapix"]["exit_code"] == 0 and report["metapix"]["meta_iterations_per_s"] > 0
    assert report["torch"] == __import__("torch").__version__

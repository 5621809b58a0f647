"""Meta-iterations per second with 1 and 2 processes under torchrun, on the CPU, and the scaling efficiency.

Each measurement is a real ``torchrun --standalone --nproc_per_node W -m metaframe run reptile …`` in a
fresh folder (both world sizes go through torchrun, so they pay the same start-up), one thread per
process (``OMP_NUM_THREADS=1``, torchrun's default), the same meta-batch for both world sizes (so W = 2
halves each process's share). The rate is read from the run's own ``metrics.jsonl`` between the end of
the warm-up iterations and the last one, so start-up and the first iterations are not counted. World
sizes and scales are interleaved round by round, so a machine whose load changes affects both alike.

Scales:

* ``tiny``: the sine toy (``mlp`` on ``sine``, K=10, T=10), meta-batch 4;
* ``small``: ``pose2im`` at scale ``tiny`` (32 px) on a small synthetic ``video-shot`` world (K=5,
  T=20, as MetaPix), meta-batch 2; the ``small`` scale (128 px) takes minutes per measurement on a CPU.

Prints one JSON object: per scale and world size the rates of every round and their median, the speedup
of 2 processes over 1 and the scaling efficiency (speedup / 2), plus the machine's load before and
after (a shared machine's figures are only as good as its idle cores).

    python benchmarks/distributed.py [--rounds 3] [--scales tiny small] [--out runs/bench-distributed]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

WORLD_SIZES = (1, 2)
WARMUP = 2  # meta-iterations left out of the rate (first calls, allocator warm-up)
VIDEO = {"identities": 4, "eval_identities": 1, "frames": 24, "size": 32, "query": 3, "eval_query": 4}
SCALES: dict[str, dict[str, Any]] = {
    "tiny": {
        "args": ["--model", "mlp", "--task", "sine", "--k", "10", "--t", "10", "--meta-batch", "4"],
        "meta_iterations": 60,
    },
    "small": {
        "args": [
            "--model", "pose2im", "--task", "video-shot", "--k", "5", "--t", "20", "--meta-batch", "2",
            "--set", "model.scale=tiny", "--set", "model.init=none", "--set", "model.lambda_l1=30",
            *[f"--set=task.{key}={value}" for key, value in VIDEO.items()],
        ],
        "meta_iterations": 8,
    },
}  # fmt: skip


def steady_rate(metrics: Path) -> float:
    """Meta-iterations per second between the end of the warm-up and the last iteration.

    Each line's ``it_per_s`` is (iterations done) / (seconds since training began), so the seconds at
    any logged iteration follow from it, and the rate between two of them from their difference.
    """
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    first, last = lines[WARMUP - 1], lines[-1]
    seconds = [(line["iteration"] + 1) / line["it_per_s"] for line in (first, last)]
    return (last["iteration"] - first["iteration"]) / (seconds[1] - seconds[0])


def measure(scale: str, world_size: int, folder: Path) -> float:
    """One run of ``scale`` under ``world_size`` processes; its steady meta-iterations per second."""
    spec = SCALES[scale]
    out = folder / f"{scale}-{world_size}-{time.monotonic_ns()}"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(world_size)]
    command += ["-m", "metaframe", "run", "reptile", *spec["args"], "--device", "cpu", "--quiet"]
    command += ["--meta-iterations", str(spec["meta_iterations"]), "--set", "checkpoint_every=1000"]
    command += ["--out", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"{scale} with {world_size} process(es) failed:\n{done.stderr[-3000:]}")
    rate = steady_rate(out / "metrics.jsonl")
    shutil.rmtree(out)
    return rate


def summary(rates: dict[int, list[float]]) -> dict[str, Any]:
    """Median rate per world size, the speedup of 2 processes over 1 and its efficiency."""
    medians = {size: statistics.median(values) for size, values in rates.items()}
    speedup = medians[2] / medians[1]
    return {
        **{f"world_size_{size}": {"rates": rates[size], "median_it_per_s": medians[size]} for size in rates},
        "speedup": speedup,
        "efficiency": speedup / 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scales", nargs="+", choices=list(SCALES), default=list(SCALES))
    parser.add_argument("--out", type=Path, default=None, help="where the runs go (default: a temporary folder)")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="bench-distributed-"))
    folder.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    for scale in args.scales:  # render the synthetic world once, outside the timed rounds
        measure(scale, 1, folder)
    rates: dict[str, dict[int, list[float]]] = {scale: {size: [] for size in WORLD_SIZES} for scale in args.scales}
    for _ in range(args.rounds):
        for scale in args.scales:
            for size in WORLD_SIZES:
                rates[scale][size].append(measure(scale, size, folder))
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__},
        "device": "cpu",
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "threads_per_process": 1,
        "rounds": args.rounds,
        "scales": {scale: {"meta_iterations": SCALES[scale]["meta_iterations"], **summary(rates[scale])}
                   for scale in args.scales},
    }  # fmt: skip
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

"""The GPU check in one script: the device tests on CUDA, Pose2Im's speed at each precision, the algorithm
benchmark and a short MetaPix at 256 px; writes one JSON file.

    python benchmarks/cuda_check.py --out docs/gpu-check.json             # on a GPU machine (about 8 min)
    python benchmarks/cuda_check.py --device cpu --quick --out check.json # every step at toy size, on a CPU

Steps, each recorded even when an earlier one failed:

1. ``tests``: ``pytest tests/test_devices.py tests/pose2im/test_bf16.py`` (the device-parametrized tests;
   their CUDA cases run where CUDA is present), its exit code and summary line;
2. ``pose2im_ms``: ms per inner iteration (a D step and a G step, batch 8, 8 distinct frames) at ``small``
   (128 px) and ``paper`` (512 px), in float32 and under bfloat16 autocast, round by round in one process
   (inputs are channels-last in every mode: the networks convert them); ``--quick``: ``tiny`` only;
3. ``algorithms``: ``benchmarks/algorithms.py --device D`` (Reptile / FOMAML over plain, MAML over higher);
4. ``metapix``: Reptile over a fresh ``small`` Pose2Im at 256 px for a fixed number of meta-iterations:
   meta-iterations per second and peak memory (``--quick``: ``tiny``, 32 px, one meta-iteration);

then the device's name, driver and torch version.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # noqa: E402 - run as a script from anywhere

from benchmarks.pose2im import COCO17, frames, timed  # noqa: E402
from metaframe.testing import from_table, run_cli  # noqa: E402
from metaframe_pose2im import model as pose2im_model  # noqa: E402
from metaframe_pose2im.options import Pose2ImOptions, scale_size  # noqa: E402

build = from_table(pose2im_model.build, Pose2ImOptions, "model")


def device_facts(device: torch.device) -> dict[str, Any]:
    """The device's name, its driver (nvidia-smi's), torch's version and CUDA build."""
    facts: dict[str, Any] = {
        "torch": torch.__version__,
        "cuda_build": torch.version.cuda,
        "python": platform.python_version(),
    }
    if device.type != "cuda":
        return {**facts, "device": platform.processor() or platform.machine(), "driver": None}
    query = ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]
    try:
        driver = subprocess.run(query, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        driver = None
    return {**facts, "device": torch.cuda.get_device_name(device), "driver": driver}


def run_tests() -> dict[str, Any]:
    """The device-parametrized tests, in a child pytest."""
    command = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", "tests/test_devices.py",
               "tests/pose2im/test_bf16.py"]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    result = {"exit_code": done.returncode, "summary": lines[-1] if lines else done.stderr[-500:]}
    if done.returncode:  # why, for the next session that has a GPU: the short summary of each failure
        result["failures"] = [line for line in lines if line.startswith(("FAILED", "ERROR"))][:40]
        result["output_tail"] = done.stdout[-3000:]
    return result


def one_scene(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The frames of one video: one background, each frame differing in its own patch (the person).

    The warp-and-refine generator warps each frame from the others of its scene, found once and kept;
    frames of random noise share no scene, so each would be redrawn from a moved copy of itself at every
    step (the K = 1 path), which is not what a K = 5 task times.
    """
    image = batch["image"][:1].repeat(len(batch["image"]), 1, 1, 1)
    quarter = image.shape[-1] // 4
    for i in range(len(image)):
        row, column = divmod(i % 9, 3)
        image[i, :, row * quarter : (row + 1) * quarter, column * quarter : (column + 1) * quarter] = 0.5 - i / 8
    return {**batch, "image": image}


def pose2im_ms(device: torch.device, scales: list[str], rounds: int) -> dict[str, Any]:
    """Inner-iteration ms of each scale in float32 and bfloat16, every mode once a round."""
    steps = {}
    for scale in scales:
        size = scale_size(scale)
        batch = one_scene(frames(8, 17, size, device))
        for mode in ("fp32", "bf16"):
            model = build({"scale": scale, "bf16": mode == "bf16"}, {"in_channels": 17, "size": size, **COCO17})
            model.to(device).set_support(batch)
            optimizers = model.inner_optimizers()
            steps[f"{scale}-{mode}"] = lambda m=model, o=optimizers, b=batch: m.inner_step(b, o)
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            times[name].append(timed(step, device, 2)["min_ms"])
    return {name: round(statistics.median(values), 2) for name, values in times.items()}


def algorithms(device: torch.device, quick: bool) -> dict[str, Any]:
    """``benchmarks/algorithms.py`` on this device (its JSON), or its error."""
    sizes = ["--repeats", "1", "--warmup", "0", "--t", "2", "--memory-t", "2"] if quick else []
    command = [sys.executable, str(ROOT / "benchmarks" / "algorithms.py"), "--device", device.type, *sizes]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        return {"exit_code": done.returncode, "error": done.stderr[-1000:]}
    return json.loads(done.stdout)


def metapix(device: torch.device, quick: bool, iterations: int, data: Path | None) -> dict[str, Any]:
    """A short MetaPix from fresh weights: meta-iterations per second and peak memory.

    ``data``: a prepared or rendered dataset folder to read instead of rendering the synthetic dancers
    (a GPU machine without pybullet); the run then works at that dataset's frame size.
    """
    size = 32 if quick else 256
    source: list[str] = []
    if data is not None:
        size = json.loads((data / "dataset.json").read_text())["size"]
        source = ["--set", f"task.data={data}"]
    scale = ["--set", "model.scale=tiny"] if quick else []
    scale += ["--set", f"model.size={size}"]
    iterations = 1 if quick else iterations
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    with tempfile.TemporaryDirectory() as folder:
        args = ["run", "reptile", "--model", "pose2im", "--task", "video-shot", *scale, *source,
                "--set", f"task.size={size}", "--set", "model.init=none", "--meta-iterations", str(iterations),
                "--set", "sample_every=0",
                "--device", device.type, "--quiet", "--out", str(Path(folder) / "run")]  # fmt: skip
        started = time.perf_counter()
        result = run_cli(args)
        seconds = time.perf_counter() - started
    peak = (
        torch.cuda.max_memory_allocated(device) / 2**20
        if device.type == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    )
    return {
        "exit_code": result.exit_code,
        "error": result.stderr[-500:] if result.exit_code else None,
        "size": size,
        "meta_iterations": iterations,
        "seconds": round(seconds, 2),
        "meta_iterations_per_s": round(iterations / seconds, 4),
        "peak_memory_mib": round(peak, 1),
        "paper_300_meta_iterations_min": round(300 / (iterations / seconds) / 60, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="every step at toy size (a CPU dry run)")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds")
    parser.add_argument("--meta-iterations", type=int, default=10, help="of the 256 px MetaPix")
    parser.add_argument("--data", type=Path, help="a dataset folder for the MetaPix step (default: render the dancers)")
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    args = parser.parse_args()
    device = torch.device(args.device)
    report: dict[str, Any] = {"benchmark": "cuda-check", "quick": args.quick, **device_facts(device)}
    scales = ["tiny"] if args.quick else ["small", "paper"]
    steps = {
        "tests": run_tests,
        "pose2im_inner_iteration_ms": lambda: pose2im_ms(device, scales, 1 if args.quick else args.rounds),
        "algorithms": lambda: algorithms(device, args.quick),
        "metapix": lambda: metapix(device, args.quick, args.meta_iterations, args.data),
    }
    for name, step in steps.items():
        report[name] = step()
        args.out.write_text(json.dumps(report, indent=2) + "\n")  # after every step: a cut-off run keeps the rest
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

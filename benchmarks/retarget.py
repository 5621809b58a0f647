"""Speed of ``metaframe retarget`` at small scale on the CPU: personalization seconds and rendering frames/s.

The model is the shipped pretrained Pose2Im (scale ``small``, 128 px), built through the registry exactly
as a run of the ``metapix`` preset builds it; the task is ``video-shot`` over the default synthetic
dancers (rendered into the cache the first time). Each repeat personalizes on K = 5 frames of one held-out
dancer for T = 20 iterations (``metaframe.loop.adapt``, the rule of Reptile runs), then renders every frame
of another dancer (120 frames) with :func:`metaframe_video.retarget.render.retarget`, side by side, into a temporary
folder. Prints one JSON object:

* ``personalization_seconds``: median over repeats of the T iterations (K frames cycled to batch 8);
* ``rendering_fps``: frames per second of the whole render stage (pose images, generator, pictures,
  H.264 encoding); ``model_fps``: the generator alone;
* the machine, its load average when done (other work slows every figure), torch's thread count and every
  repeat's figures.

    python benchmarks/retarget.py [--repeats 3] [--threads N] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

import torch

from metaframe.loop import adapt
from metaframe.plugins import load_plugins
from metaframe.stages import processor_name
from metaframe_pose2im.plugin import CPU_LOSSES
from metaframe_video.retarget.contract import Footage
from metaframe_video.retarget.render import RetargetPlan, retarget

K, T = 5, 20
MODEL = {"scale": "small", **CPU_LOSSES, "init": "pretrained"}  # the metapix preset's model
TARGET, SOURCE = "synthetic:eval-000", "synthetic:eval-001"


def one_repeat(device: str, seed: int) -> dict[str, Any]:
    """Build the model afresh, personalize it and render the source; the summary's speed figures."""
    plugins = load_plugins()
    sampler = plugins.tasks.get("video-shot").build({"size": 128}, k=K)
    torch.manual_seed(seed)
    model = plugins.models.get("pose2im").build(MODEL, sampler.info).to(device)
    support = sampler.target_examples(Footage(TARGET), K)
    motion = sampler.source_motion(Footage(SOURCE), Footage(TARGET))
    with tempfile.TemporaryDirectory() as folder:
        plan = RetargetPlan(T, "hold-then-decay", seed, side_by_side=True, show_progress=False)
        summary = retarget(model, adapt, support, motion, Path(folder) / "bench.mp4", plan)
    keys = ("k", "t", "frames", "personalization_seconds", "rendering_fps", "model_fps", "rendering_seconds")
    return {key: summary[key] for key in keys}


def main() -> None:
    """Run the repeats and print the JSON report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    runs = [one_repeat(args.device, seed) for seed in range(args.repeats)]
    report = {
        "benchmark": "retarget",
        "model": {"name": "pose2im", **MODEL},
        "k": K,
        "t": T,
        "source_frames": runs[0]["frames"],
        "personalization_seconds": statistics.median(r["personalization_seconds"] for r in runs),
        "rendering_fps": statistics.median(r["rendering_fps"] for r in runs),
        "model_fps": statistics.median(r["model_fps"] for r in runs),
        "device": args.device,
        "torch_threads": torch.get_num_threads(),
        "cpu": processor_name(),
        "cpu_count": os.cpu_count(),
        "load_average": [round(v, 2) for v in os.getloadavg()],  # other work on the machine slows every figure
        "torch": torch.__version__,
        "repeats": runs,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

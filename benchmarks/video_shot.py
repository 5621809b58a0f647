"""Throughput of the video-shot task: is data ever what a meta-iteration waits for?

Prints one JSON object with

* ``sampling``: training tasks per second (K=5 support + 8 query frames: PNG decoding, conversion and
  pose rendering) at 128 and 256 px, with and without limb channels, and the time to build the
  held-out evaluation tasks (K=5 + 16 frames each);
* ``meta_iteration``: a few real meta-iterations of ``reptile`` on ``pose2im`` (scale ``small``, K=5,
  T=20) over the default synthetic dancers, run by the engine's own loop, and the fraction of their
  wall time spent inside ``sampler.sample`` (target: < 5%);
* ``render``: with ``--render``, the seconds to render the default synthetic dataset from scratch
  (into a temporary cache folder, deleted afterwards).

Sampling worlds are small synthetic configurations (4 + 1 identities × 120 frames, cached like the
default one); throughput does not depend on how many identities there are.

    python benchmarks/video_shot.py [--tasks 30] [--meta-iterations 3] [--render] [--device cpu] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from typing import Any

import torch

from metaframe.config import Settings
from metaframe.loop import meta_train
from metaframe.plugins import load_plugins
from metaframe.protocols import Task, TaskSampler
from metaframe.testing import from_table
from metaframe_video.synthetic.world import SyntheticConfig, dataset_folder
from metaframe_video.task import video_shot
from metaframe_video.task.video_shot import VideoShotOptions

K, T = 5, 20
build = from_table(video_shot.build, VideoShotOptions, "task")
TARGET_DATA_FRACTION = 0.05


class TimedSampler(TaskSampler):
    """Delegates to a sampler and adds up the seconds spent in :meth:`sample`."""

    def __init__(self, inner: TaskSampler) -> None:
        self.inner, self.seconds, self.calls = inner, 0.0, 0

    @property
    def info(self) -> dict[str, Any]:
        return self.inner.info

    def sample(self, generator: torch.Generator) -> Task:
        started = time.perf_counter()
        task = self.inner.sample(generator)
        self.seconds += time.perf_counter() - started
        self.calls += 1
        return task

    def eval_tasks(self) -> list[Task]:
        return self.inner.eval_tasks()


def sampling(size: int, limbs: bool, tasks: int) -> dict[str, float]:
    """Tasks per second of a sampler over a small synthetic world at ``size`` px."""
    options = {"size": size, "identities": 4, "eval_identities": 1, "frames": 120, "limbs": limbs}
    sampler = build(options, k=K)
    generator = torch.Generator().manual_seed(0)
    sampler.sample(generator)  # warm the page cache and torch's kernels
    times = []
    for _ in range(tasks):
        started = time.perf_counter()
        sampler.sample(generator)
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    sampler.eval_tasks()
    return {
        "tasks_per_s": round(1 / statistics.median(times), 1),
        "ms_per_task": round(1000 * statistics.median(times), 1),
        "eval_task_ms": round(1000 * (time.perf_counter() - started), 1),
        "in_channels": sampler.info["in_channels"],
    }


def meta_iterations(iterations: int, device: str) -> dict[str, Any]:
    """Run a few Reptile meta-iterations of pose2im ``small`` and time the data part of them."""
    plugins = load_plugins()
    sampler = TimedSampler(build({}, k=K))
    model = plugins.models.get("pose2im").build({"scale": "small"}, sampler.info).to(device)
    settings = Settings(k=K, t=T, meta_iterations=iterations, device=device)
    algorithm = plugins.algorithms.get("reptile").build({}, model, settings)
    started = time.perf_counter()
    meta_train(algorithm, model, sampler, settings)
    total = time.perf_counter() - started
    return {
        "model": "pose2im scale=small (128 px)",
        "algorithm": "reptile",
        "k": K,
        "t": T,
        "iterations": iterations,
        "seconds_per_iteration": round(total / iterations, 3),
        "data_ms_per_iteration": round(1000 * sampler.seconds / iterations, 1),
        "data_fraction": round(sampler.seconds / total, 4),
        "target": TARGET_DATA_FRACTION,
        "meets_target": sampler.seconds / total < TARGET_DATA_FRACTION,
    }


def render_default() -> dict[str, Any]:
    """Seconds to render the default synthetic dataset from scratch (in a throw-away cache folder)."""
    saved = os.environ.get("METAFRAME_CACHE")
    folder = tempfile.mkdtemp(prefix="metaframe-render-")
    os.environ["METAFRAME_CACHE"] = folder
    try:
        config = SyntheticConfig()
        started = time.perf_counter()
        dataset_folder(config)
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if saved is None:
            os.environ.pop("METAFRAME_CACHE")
        else:
            os.environ["METAFRAME_CACHE"] = saved
    videos = config.identities + config.eval_identities
    return {
        "videos": videos,
        "frames": config.frames,
        "size": config.size,
        "seconds": round(seconds, 1),
        "ms_per_frame": round(1000 * seconds / (videos * config.frames), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=30, help="training tasks timed per configuration")
    parser.add_argument("--meta-iterations", type=int, default=3)
    parser.add_argument("--render", action="store_true", help="also time a fresh render of the default dataset")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "load_average_before": [round(x, 2) for x in os.getloadavg()],
        },
    }
    if args.render:
        results["render"] = render_default()
    results["sampling"] = {
        f"{size}px{'_limbs' if limbs else ''}": sampling(size, limbs, args.tasks)
        for size in (128, 256)
        for limbs in (False, True)
    }
    results["meta_iteration"] = meta_iterations(args.meta_iterations, args.device)
    results["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

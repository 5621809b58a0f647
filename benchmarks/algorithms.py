"""Speed and memory of one meta-iteration of each outer algorithm, against plain training and `higher`.

A ~0.48 M-parameter conv encoder-decoder regresses 64×64 target images from 8 support images; the inner
loop is T Adam steps (lr 1e-3, L1 loss). The methods:

* ``plain``: T ``torch.optim.Adam`` steps written by hand (the floor every algorithm pays),
* ``reptile``, ``fomaml``, ``maml``, ``maml_checkpointed`` (``checkpoint_inner=true``): one meta-iteration
  (meta-batch 1) of the engine's algorithms, built through the plugin registry as ``metaframe run`` does,
* ``higher_maml``: the same second-order MAML written with ``higher.innerloop_ctx`` (the peer).

Every round runs every method once, each beside its baseline, so a burst of load from elsewhere hits
both alike; each ratio is computed within each round against its baseline (``BASELINES``) and reported
as the median over rounds with its spread (min, max). Peak memory is measured in a fresh subprocess,
for each method and for MAML with and without the checkpointed inner loop at several T. Prints one
JSON object.

    python benchmarks/algorithms.py [--warmup 1] [--repeats 5] [--t 5] [--memory-t 5,10,20] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime
import functools
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import higher
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from metaframe.config import Settings
from metaframe.params import strip_prefix
from metaframe.plugins import Plugins, load_plugins
from metaframe.protocols import Batch, Capability, Task, TaskModel, TaskSampler

METHODS = ("plain", "reptile", "fomaml", "higher_maml", "maml", "maml_checkpointed")  # each beside its baseline
BASELINES = {"reptile": "plain", "fomaml": "plain", "maml": "higher_maml", "maml_checkpointed": "maml"}
ENGINE = {  # method -> (registered algorithm, its options)
    "reptile": ("reptile", {}),
    "fomaml": ("fomaml", {}),
    "maml": ("maml", {}),
    "maml_checkpointed": ("maml", {"checkpoint_inner": True}),
}
TARGETS = {  # ratio -> the most it may be (time: median of per-round ratios; memory: of the peaks)
    "reptile_over_plain": 1.10,
    "fomaml_over_plain": 1.30,
    "maml_over_higher_maml": 0.90,
    "memory_maml_over_higher_maml": 0.90,
}
SWEPT = ("maml", "maml_checkpointed")  # the methods whose memory is measured at every --memory-t
POSE2IM = ("pose2im_maml", "pose2im_maml_checkpointed")  # with --pose2im, also swept
POSE2IM_SIZE, POSE2IM_K, POSE2IM_CHANNELS = 64, 3, 5
POSE2IM_MODEL = {"scale": "tiny", "size": POSE2IM_SIZE, "ngf": 16, "ndf": 16}  # a D step, then a G step
SIZE, BATCH, LR = 64, 8, 1e-3


def encoder_decoder() -> nn.Sequential:
    """3→32→64→128 strided convs, a 128→128 bottleneck conv, transposed convs back to 3 channels."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 4, 2, 1), nn.ReLU(),
        nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
        nn.Conv2d(64, 128, 4, 2, 1), nn.ReLU(),
        nn.Conv2d(128, 128, 3, 1, 1), nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(32, 3, 4, 2, 1),
    )  # fmt: skip


def image_loss(prediction: Tensor, target: Tensor) -> Tensor:
    """The regression objective of every method (pix2pix-style L1)."""
    return F.l1_loss(prediction, target)


class ImageRegressor(TaskModel):
    """The benchmark's model: one network ``net``, Adam inner steps, functional for second-order MAML."""

    capabilities = frozenset({Capability.FUNCTIONAL})
    functional_networks = ("net",)
    metric_goals = {"l1": "min"}

    def __init__(self) -> None:
        super().__init__({"net": encoder_decoder()})

    def inner_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"net": torch.optim.Adam(self.networks["net"].parameters(), lr=LR)}

    def inner_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, float]:
        loss = self.losses(batch)["net"]
        optimizers["net"].zero_grad(set_to_none=True)
        loss.backward()
        optimizers["net"].step()
        return {"loss": loss.item()}

    def losses(self, batch: Batch) -> dict[str, Tensor]:
        return {"net": image_loss(self.networks["net"](batch["x"]), batch["y"])}

    @torch.no_grad()
    def score(self, batch: Batch) -> dict[str, float]:
        return {"l1": self.losses(batch)["net"].item()}

    def functional_loss(self, params: Mapping[str, Tensor], batch: Batch) -> Tensor:
        return image_loss(functional_call(self.networks["net"], strip_prefix(params, "net"), (batch["x"],)), batch["y"])


class ColourTasks(TaskSampler):
    """Each task is a random per-pixel colour transform y = tanh(M x + b) of random images."""

    def __init__(self, k: int = BATCH, query: int = BATCH) -> None:
        self.k, self.query = k, query

    @property
    def info(self) -> dict[str, Any]:
        return {"in_channels": 3, "size": SIZE}

    def sample(self, generator: torch.Generator) -> Task:
        x = torch.rand(self.k + self.query, 3, SIZE, SIZE, generator=generator) * 2 - 1
        mix, shift = torch.randn(3, 3, generator=generator), torch.randn(3, 1, 1, generator=generator)
        y = torch.tanh(torch.einsum("oc,nchw->nohw", mix, x) + shift)
        split = lambda t: (t[: self.k], t[self.k :])  # noqa: E731
        (xs, xq), (ys, yq) = split(x), split(y)
        return Task("colour", {"x": xs, "y": ys}, {"x": xq, "y": yq})

    def eval_tasks(self) -> list[Task]:
        generator = torch.Generator().manual_seed(1)
        return [self.sample(generator) for _ in range(2)]


def fresh_model(device: torch.device) -> ImageRegressor:
    """The same initial weights for every method."""
    torch.manual_seed(0)
    return ImageRegressor().to(device)  # type: ignore[return-value]


def plain_step(model: ImageRegressor, task: Task, t: int) -> Callable[[], None]:
    """T hand-written Adam steps on the support batch, fresh optimizer each time (as adaptation has)."""
    net, batch = model.networks["net"], task.support

    def run() -> None:
        optimizer = torch.optim.Adam(net.parameters(), lr=LR)
        for _ in range(t):
            loss = image_loss(net(batch["x"]), batch["y"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    return run


@functools.cache
def installed_plugins() -> Plugins:
    """The installed metaframe plugins, loaded once."""
    return load_plugins()


def engine_step(method: str, model: ImageRegressor, task: Task, t: int) -> Callable[[], None]:
    """One meta-iteration (meta-batch 1) of the registered algorithm behind ``method``."""
    name, options = ENGINE[method]
    settings = Settings(k=BATCH, t=t, meta_iterations=1_000_000, device=str(model.device), inner_schedule="constant")
    algorithm = installed_plugins().algorithms.get(name).build(dict(options), model, settings)
    iteration = [0]

    def run() -> None:
        algorithm.step([task], iteration[0])
        iteration[0] += 1

    return run


def higher_maml_step(model: ImageRegressor, task: Task, t: int) -> Callable[[], None]:
    """Second-order MAML with ``higher``: differentiable Adam inner loop, query loss, outer Adam step."""
    net = model.networks["net"]
    inner = torch.optim.Adam(net.parameters(), lr=LR)
    outer = torch.optim.Adam(net.parameters(), lr=1e-3)
    support, query = task.support, task.query

    def run() -> None:
        with higher.innerloop_ctx(net, inner, copy_initial_weights=False) as (fnet, diffopt):
            for _ in range(t):
                diffopt.step(image_loss(fnet(support["x"]), support["y"]))
            query_loss = image_loss(fnet(query["x"]), query["y"])
            outer.zero_grad(set_to_none=True)
            query_loss.backward()
        outer.step()

    return run


def pose2im_step(method: str, device: torch.device, t: int) -> Callable[[], None]:
    """One MAML meta-iteration on a small Pose2Im (64 px, K=3 frames cycled to a batch of 8)."""
    size = POSE2IM_SIZE
    torch.manual_seed(0)
    info = {"in_channels": POSE2IM_CHANNELS, "size": size}
    model = installed_plugins().models.get("pose2im").build(dict(POSE2IM_MODEL), info).to(device)
    frames = lambda: {  # noqa: E731
        "pose": torch.rand(POSE2IM_K, POSE2IM_CHANNELS, size, size),
        "image": torch.rand(POSE2IM_K, 3, size, size) * 2 - 1,
    }
    task = Task("person", frames(), frames()).to(device)
    options = {"checkpoint_inner": method.endswith("_checkpointed")}
    settings = Settings(k=POSE2IM_K, t=t, meta_iterations=1_000_000, device=str(device))
    algorithm = installed_plugins().algorithms.get("maml").build(options, model, settings)

    def run() -> None:
        algorithm.step([task], 0)

    return run


def build(method: str, device: torch.device, t: int) -> Callable[[], None]:
    """A zero-argument callable doing one iteration of ``method``, on its own copy of the model."""
    if method in POSE2IM:
        return pose2im_step(method, device, t)
    model = fresh_model(device)
    task = ColourTasks().sample(torch.Generator().manual_seed(0)).to(device)
    if method == "plain":
        return plain_step(model, task, t)
    if method == "higher_maml":
        return higher_maml_step(model, task, t)
    return engine_step(method, model, task, t)


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so wall-clock times are the work's."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(run: Callable[[], None], device: torch.device) -> tuple[float, float]:
    """Wall-clock and CPU (all threads of this process) milliseconds of one call."""
    synchronize(device)
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    synchronize(device)
    return (time.perf_counter() - wall) * 1e3, (time.process_time() - cpu) * 1e3


def time_all(device: torch.device, t: int, warmup: int, repeats: int) -> dict[str, dict[str, list[float]]]:
    """Wall and CPU times of every method, interleaved round by round so that noise hits all alike: each
    method runs right beside its baseline, and every other round runs backwards (A B B A ...), so that
    neither of a pair always runs first, or always after the same other method."""
    runs = {method: build(method, device, t) for method in METHODS}
    times: dict[str, dict[str, list[float]]] = {method: {"wall": [], "cpu": []} for method in METHODS}
    for round_ in range(warmup + repeats):
        for method in METHODS if round_ % 2 == 0 else reversed(METHODS):
            wall, cpu = timed(runs[method], device)
            if round_ >= warmup:
                times[method]["wall"].append(wall)
                times[method]["cpu"].append(cpu)
    return times


def rss_mib() -> float:
    """Resident set size of this process now (Linux), else its peak so far."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return peak_rss_mib()
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    """Peak resident set size since the last :func:`restart_peak_rss` (Linux), else since the start."""
    with contextlib.suppress(OSError, StopIteration):
        line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
        return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def restart_peak_rss() -> float:
    """Return freed heap to the OS and restart the peak counter; the RSS (MiB) the peak is measured from.

    ``ru_maxrss`` alone cannot be used: on Linux a process started by ``exec`` inherits its parent's peak,
    and memory freed by setup but kept by malloc would hide part of the method's own growth.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")
    return rss_mib()


def measure_one(method: str, device: torch.device, t: int, runs: int) -> dict[str, float]:
    """Peak memory of ``method`` while it runs, above the state after it was built."""
    run = build(method, device, t)
    baseline_rss = restart_peak_rss()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        baseline_cuda = torch.cuda.memory_allocated(device)
    for _ in range(runs):
        run()
    synchronize(device)
    result = {"peak_rss_increase_mib": peak_rss_mib() - baseline_rss}
    if device.type == "cuda":
        result["peak_cuda_increase_mib"] = (torch.cuda.max_memory_allocated(device) - baseline_cuda) / 2**20
    return result


def warm_libraries(device: torch.device) -> None:
    """A throwaway forward, double backward and Adam step: one-time allocations (the first optimizer step
    imports more of torch, the first double backward builds its kernels) are setup, charged to no method."""
    net = encoder_decoder().to(device)
    optimizer = torch.optim.Adam(net.parameters())
    loss = net(torch.zeros(BATCH, 3, SIZE, SIZE, device=device)).square().mean()
    grads = torch.autograd.grad(loss, list(net.parameters()), create_graph=True)
    torch.stack([g.square().sum() for g in grads]).sum().backward()
    optimizer.step()


def measurements(args: argparse.Namespace) -> list[tuple[str, int]]:
    """The (method, T) pairs whose peak memory is measured: every method at ``--t``, the swept ones at
    every ``--memory-t``."""
    swept = [(method, t) for method in SWEPT for t in args.memory_t if t != args.t]
    pose2im = [(method, t) for method in POSE2IM for t in args.memory_t] if args.pose2im else []
    return [(method, args.t) for method in METHODS] + swept + pose2im


def measure_all(args: argparse.Namespace, device: torch.device) -> list[dict[str, Any]]:
    """In this fresh process, the peak of each measurement in turn, each freed before the next."""
    warm_libraries(device)
    results = []
    for method, t in measurements(args):
        results.append({"method": method, "t": t, **measure_one(method, device, t, args.memory_runs)})
        gc.collect()
    return results


def memory_all(args: argparse.Namespace) -> tuple[dict[str, dict[str, float]], dict[str, dict[int, dict[str, float]]]]:
    """Re-run this script with ``--memory-child``: a fresh process that has run nothing else measures
    every method's peak at ``--t`` and the swept methods' peaks at every ``--memory-t``.

    The child's malloc hands every block of 64 KiB or more straight back to the system when it is freed
    (a fixed ``MALLOC_MMAP_THRESHOLD_``; glibc otherwise raises the threshold as it goes and keeps freed
    blocks), so its resident size follows the tensors alive rather than what malloc happens to keep, and
    one measurement's leftovers cannot hide the next one's growth.
    """
    command = [sys.executable, __file__, "--memory-child", "--device", args.device, "--t", str(args.t),
               "--memory-t", ",".join(map(str, args.memory_t)), "--threads", str(args.threads),
               "--memory-runs", str(args.memory_runs), *(["--pose2im"] if args.pose2im else [])]  # fmt: skip
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(64 * 1024)}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    results = json.loads(done.stdout)
    at_t = {r["method"]: r for r in results if r["t"] == args.t}
    by_t = {method: {t: next(r for r in results if (r["method"], r["t"]) == (method, t)) for t in args.memory_t}
            for method in SWEPT + (POSE2IM if args.pose2im else ())}  # fmt: skip
    return at_t, by_t


def ratio_name(method: str) -> str:
    """How a method's ratio to its baseline is named in the report."""
    return f"{method}_over_{BASELINES[method]}"


def spread(values: list[float]) -> dict[str, float]:
    """Median, min and max of ``values``, rounded for the report."""
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3), "max": round(max(values), 3)}


def round_ratios(times: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Each method's time over its baseline's in the same round, summarized over the rounds."""
    return {
        ratio_name(method): spread([a / b for a, b in zip(times[method], times[baseline])])
        for method, baseline in BASELINES.items()
    }


def describe(device: torch.device) -> str:
    """The device in words."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    name = platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        line = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
        name = line.partition(":")[2].strip()
    return f"cpu: {name}, {os.cpu_count()} cores"


def memory_report(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    """Peaks at ``--t``, their ratios to the baselines, and the swept methods' peaks by T."""
    at_t, by_t = memory_all(args)
    key = "peak_cuda_increase_mib" if device.type == "cuda" else "peak_rss_increase_mib"
    peaks = {method: m[key] for method, m in at_t.items()}
    return {
        "measure": key,
        "peak_mib": {method: round(value, 1) for method, value in peaks.items()},
        "ratios": {ratio_name(m): round(peaks[m] / peaks[b], 3) for m, b in BASELINES.items()},
        "peak_mib_by_t": {method: {str(t): round(m[key], 1) for t, m in runs.items()} for method, runs in by_t.items()},
    }


def time_report(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    """Per-method wall and CPU milliseconds (median, min, max) and the per-round ratios to the baselines."""
    times = time_all(device, args.t, args.warmup, args.repeats)
    wall = {method: t["wall"] for method, t in times.items()}
    return {
        "wall_ms": {method: {k: round(v, 1) for k, v in spread(t).items()} for method, t in wall.items()},
        "cpu_ms": {method: round(statistics.median(t["cpu"]), 1) for method, t in times.items()},
        "ratios": round_ratios(wall),
        "ratios_of_cpu": {
            name: r["median"] for name, r in round_ratios({m: t["cpu"] for m, t in times.items()}).items()
        },
    }


def report(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    """The benchmark's JSON document: the set-up, the targets and whether they hold, time, memory."""
    memory = memory_report(args, device)  # first, while this process is small (a child may inherit its peak)
    timing = time_report(args, device)
    found = {name: r["median"] for name, r in timing["ratios"].items()}
    found |= {f"memory_{name}": value for name, value in memory["ratios"].items()}
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "device": describe(device),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "params": sum(p.numel() for p in encoder_decoder().parameters()),
        "input": f"{BATCH}x3x{SIZE}x{SIZE}",
        "t": args.t,
        "warmup": args.warmup,
        "repeats": args.repeats,
        "targets": TARGETS,
        "found": {name: found[name] for name in TARGETS},
        "met": {name: found[name] <= target for name, target in TARGETS.items()},
        "time": timing,
        "memory": memory,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (medians and spreads over them)")
    parser.add_argument("--t", type=int, default=5, help="inner steps T")
    parser.add_argument(
        "--memory-t", type=lambda text: [int(t) for t in text.split(",")], default=[5, 10, 20],
        help="comma-separated T at which MAML's peak memory is measured with and without checkpoint_inner",
    )  # fmt: skip
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (default 1: steady on a shared machine, where more "
        "threads wait on each other)",
    )  # fmt: skip
    parser.add_argument("--memory-runs", type=int, default=1, help="iterations per memory subprocess")
    parser.add_argument(
        "--pose2im", action="store_true", help="also sweep MAML's memory on a small Pose2Im GAN (slower)"
    )
    parser.add_argument("--memory-child", action="store_true", help="internal: measure the peaks in this process")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.memory_child:
        print(json.dumps(measure_all(args, device)))
        return
    print(json.dumps(report(args, device), indent=2))


if __name__ == "__main__":
    main()

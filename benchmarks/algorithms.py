"""Speed and memory of one meta-iteration of each outer algorithm, against plain training and `higher`.

A ~0.48 M-parameter conv encoder-decoder regresses 64×64 target images from 8 support images; the inner
loop is T Adam steps (lr 1e-3, L1 loss). Prints one JSON object: the median milliseconds of

* ``plain``: T ``torch.optim.Adam`` steps written by hand (the floor every algorithm pays),
* ``reptile``, ``fomaml``, ``maml``: one meta-iteration (meta-batch 1) of the engine's algorithms, built
  through the plugin registry exactly as ``metaframe run`` builds them,
* ``higher_maml``: the same second-order MAML written with ``higher.innerloop_ctx`` (the peer),

the peak memory of each (measured in a fresh subprocess per method) and the ratios the targets are set on.

    python benchmarks/algorithms.py [--warmup 2] [--repeats 7] [--t 5] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime
import functools
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

from metaframe.config import RunSettings
from metaframe.params import strip_prefix
from metaframe.plugins import Plugins, load_plugins
from metaframe.protocols import FUNCTIONAL, Batch, Task, TaskModel, TaskSampler

METHODS = ("plain", "reptile", "fomaml", "maml", "higher_maml")
TARGETS = {
    "reptile_over_plain": 1.10,
    "fomaml_over_plain": 1.30,
    "maml_over_higher": 1.00,
    "maml_mem_over_higher": 1.00,
}
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

    capabilities = frozenset({FUNCTIONAL})
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


def engine_step(name: str, model: ImageRegressor, task: Task, t: int) -> Callable[[], None]:
    """One meta-iteration (meta-batch 1) of the registered algorithm ``name``."""
    settings = RunSettings(k=BATCH, t=t, meta_iterations=1_000_000, device=str(model.device), inner_schedule="constant")
    algorithm = installed_plugins().algorithms.get(name).factory({}, model, settings)
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


def build(method: str, device: torch.device, t: int) -> Callable[[], None]:
    """A zero-argument callable doing one iteration of ``method``, on its own copy of the model."""
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
    """Wall and CPU times of every method, interleaved round by round so that noise hits all alike."""
    runs = {method: build(method, device, t) for method in METHODS}
    times: dict[str, dict[str, list[float]]] = {method: {"wall": [], "cpu": []} for method in METHODS}
    for round_ in range(warmup + repeats):
        for method, run in runs.items():
            wall, cpu = timed(run, device)
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
    """Peak memory of ``method`` above the state after setup (this process runs nothing else)."""
    warm_libraries(device)
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
    """A throwaway forward, backward and Adam step: one-time allocations (the first optimizer step imports
    more of torch) are setup, charged to no method."""
    net = encoder_decoder().to(device)
    optimizer = torch.optim.Adam(net.parameters())
    net(torch.zeros(BATCH, 3, SIZE, SIZE, device=device)).sum().backward()
    optimizer.step()


def memory_all(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Re-run this script with ``--one METHOD`` for each method, so each peak is measured alone."""
    results = {}
    for method in METHODS:
        command = [sys.executable, __file__, "--one", method, "--device", args.device, "--t", str(args.t),
                   "--threads", str(args.threads), "--memory-runs", str(args.memory_runs)]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        results[method] = json.loads(done.stdout)
    return results


def time_ratios(ms: dict[str, float]) -> dict[str, float]:
    """The time ratios the targets are set on."""
    return {
        "reptile_over_plain": ms["reptile"] / ms["plain"],
        "fomaml_over_plain": ms["fomaml"] / ms["plain"],
        "maml_over_higher": ms["maml"] / ms["higher_maml"],
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


def report(args: argparse.Namespace, device: torch.device) -> dict[str, Any]:
    """The benchmark's JSON document: medians and target ratios first, then the spread behind them."""
    memory = memory_all(args)  # first, while this process is small (a child may inherit its peak)
    times = time_all(device, args.t, args.warmup, args.repeats)
    wall = {method: statistics.median(t["wall"]) for method, t in times.items()}
    key = "peak_cuda_increase_mib" if device.type == "cuda" else "peak_rss_increase_mib"
    found = {**time_ratios(wall), "maml_mem_over_higher": memory["maml"][key] / memory["higher_maml"][key]}
    best = {method: min(t["wall"]) for method, t in times.items()}
    cpu = {method: statistics.median(t["cpu"]) for method, t in times.items()}
    rounded = lambda values: {name: round(value, 3) for name, value in values.items()}  # noqa: E731
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": describe(device),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "params": sum(p.numel() for p in encoder_decoder().parameters()),
        "input": f"{BATCH}x3x{SIZE}x{SIZE}",
        "t": args.t,
        "warmup": args.warmup,
        "repeats": args.repeats,
        **{f"{method}_ms": round(value, 1) for method, value in wall.items()},
        **rounded(found),
        "targets": TARGETS,
        "met": {name: found[name] <= target for name, target in TARGETS.items()},
        "min_ms": {method: round(value, 1) for method, value in best.items()},
        "max_ms": {method: round(max(t["wall"]), 1) for method, t in times.items()},
        "cpu_ms": {method: round(value, 1) for method, value in cpu.items()},
        "ratios_of_min": rounded(time_ratios(best)),
        "ratios_of_cpu": rounded(time_ratios(cpu)),
        "memory_mib": {method: rounded(m) for method, m in memory.items()},
        "memory_measure": key,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds first")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds (the median is reported)")
    parser.add_argument("--t", type=int, default=5, help="inner steps T")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch threads (default: all cores)")
    parser.add_argument("--memory-runs", type=int, default=2, help="iterations per memory subprocess")
    parser.add_argument("--one", choices=METHODS, help="internal: measure the peak memory of one method")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.one:
        print(json.dumps(measure_one(args.one, device, args.t, args.memory_runs)))
        return
    print(json.dumps(report(args, device), indent=2))


if __name__ == "__main__":
    main()

"""Speed and memory of the ``pose2im`` model at each scale; prints one JSON document.

For each scale (tiny and small; paper too when CUDA is present): milliseconds per inner iteration (a
discriminator step and a generator step) at batch 8 with 8 distinct frames and with K=5 frames cycled
to fill the batch (the MetaPix setting), generator inference frames per second at batch 1 and 8, peak
memory, and parameter counts. Each scale runs in its own process so peak memory is its own.

    python benchmarks/pose2im.py                       # tiny, small (+ paper on a GPU)
    python benchmarks/pose2im.py --scales small --vgg  # also time the VGG19 loss (random weights)
    python benchmarks/pose2im.py --before-after        # small now vs small before the U-Net, interleaved

``--warp-vs-unet`` times, on a real synthetic dancer's K=5 support frames, the inner iteration of the
warp-and-refine generator (``model.generator=warp``, today's ``small``) and of the reference-conditioned
U-Net it replaced, round by round in one process; the share of the first inner iteration spent on the
leave-one-out warp and of the later ones (which find it kept: the same support frames) and the warp of
16 query poses; and the achieved GFLOP/s
of the inner iteration (floating-point operations counted by torch's FlopCounterMode) against this
machine's measured float32 matmul peak.

``--before-after`` times the K=5 inner iteration of today's ``small`` (the reference-conditioned U-Net)
and of the ``small`` it replaced (pix2pixHD's generator, ngf 8, 6 blocks, ndf 8) round by round in one
process, and reports each one's median and the per-round ratio's median and spread.

Wall-clock times on a shared CPU depend on what else runs: the report includes the load average and,
on CPU, the process CPU time (``cpu_min_ms``), which is steadier; with ``--threads 1`` it is the time
the work takes on one idle core.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import torch

from metaframe.testing import from_table
from metaframe_pose2im import model as pose2im_model
from metaframe_pose2im.options import Pose2ImOptions, scale_size
from metaframe_pose2im.vgg import VGG19Features

build = from_table(pose2im_model.build, Pose2ImOptions, "model")


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so wall-clock times cover it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(step: Callable[[], Any], device: torch.device, repeats: int) -> dict[str, float]:
    """Wall-clock and CPU milliseconds of ``step`` (after two warm-up calls): min and median."""
    for _ in range(2):
        step()
    synchronize(device)
    wall, cpu = [], []
    for _ in range(repeats):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        step()
        synchronize(device)
        wall.append((time.perf_counter() - start_wall) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    result = {"min_ms": round(min(wall), 2), "median_ms": round(statistics.median(wall), 2)}
    if device.type == "cpu":
        result["cpu_min_ms"] = round(min(cpu), 2)
    return result


def frames(k: int, channels: int, size: int, device: torch.device) -> dict[str, torch.Tensor]:
    """K random pose heatmaps and frames (speed does not depend on the content)."""
    return {
        "pose": torch.rand(k, channels, size, size, device=device),
        "image": torch.rand(k, 3, size, size, device=device) * 2 - 1,
    }


COCO17 = {"keypoints": "coco17"}  # what video-shot's info says: the warp generator needs it
SMALL_BEFORE = {"scale": "small", "generator": "pix2pixhd", "ngf": 8, "ndf": 8, "n_blocks": 6}


def inner_iteration(model: Any, k: int, channels: int, repeats: int) -> dict[str, float]:
    """Time one inner iteration on K frames (filled to the model's batch of 8)."""
    batch = frames(k, channels, model.architecture.size, model.device)
    optimizers = model.inner_optimizers()
    return timed(lambda: model.inner_step(batch, optimizers), model.device, repeats)


def interleaved(
    steps: dict[str, Callable[[], Any]], device: torch.device, rounds: int
) -> tuple[dict[str, list[float]], list[float]]:
    """Each step's minimum ms, round by round (every step once a round, so load affects all alike), and the
    per-round ratio of the first step's time to the second's."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            times[name].append(timed(step, device, 3)["min_ms"])
    first, second = list(times.values())[:2]
    return times, [a / b for a, b in zip(first, second)]


def spread(ratios: list[float]) -> dict[str, float]:
    """Median, min and max of per-round ratios."""
    return {"median": round(statistics.median(ratios), 3), "min": round(min(ratios), 3), "max": round(max(ratios), 3)}


def before_after(args: argparse.Namespace) -> dict[str, Any]:
    """The K=5 inner iteration of ``small`` now and before, interleaved round by round (ms, and ratios)."""
    device = torch.device(args.device)
    size = scale_size("small")
    models = {
        "after": build({"scale": "small"}, {"in_channels": args.channels, "size": size, **COCO17}).to(device),
        "before": build(SMALL_BEFORE, {"in_channels": args.channels, "size": size, **COCO17}).to(device),
    }
    batch = frames(5, args.channels, size, device)
    steps = {name: functools.partial(m.inner_step, batch, m.inner_optimizers()) for name, m in models.items()}
    times, ratios = interleaved(steps, device, args.repeats)
    return {
        "benchmark": "pose2im-before-after",
        "inner_iteration_k5_ms": {name: round(statistics.median(values), 1) for name, values in times.items()},
        "ratio_after_over_before": spread(ratios),
        "rounds": args.repeats,
        "before": SMALL_BEFORE,
    }


def matmul_peak_gflops(device: torch.device, size: int = 1024, repeats: int = 10) -> float:
    """The machine's float32 matmul rate: the best of ``repeats`` size×size products, in GFLOP/s."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    best = timed(lambda: a @ b, device, repeats)["min_ms"]
    return round(2 * size**3 / (best / 1000) / 1e9, 1)


def flops_of(step: Callable[[], Any]) -> int:
    """Floating-point operations of one call of ``step``, as torch's FlopCounterMode counts them."""
    from torch.utils.flop_counter import FlopCounterMode  # noqa: PLC0415 - only this benchmark needs it

    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def warp_vs_unet(args: argparse.Namespace) -> dict[str, Any]:
    """The K=5 inner iteration of the warp-and-refine generator and the U-Net, interleaved, on real frames;
    the warp's share; achieved GFLOP/s against the matmul peak."""
    from metaframe_pose2im.warp_input import WarpInput, leave_one_out  # noqa: PLC0415
    from metaframe_video.task import video_shot  # noqa: PLC0415

    build_task = from_table(video_shot.build, video_shot.VideoShotOptions, "task")

    device, size = torch.device(args.device), scale_size("small")
    task = build_task({"size": size}, k=5).eval_tasks()[0].to(device)
    info = {"in_channels": 17, "size": size, "keypoints": "coco17"}
    models = {name: build({"scale": "small", "generator": name}, info).to(device) for name in ("warp", "unet")}
    steps = {}
    for name, model in models.items():
        model.set_support(task.support)
        steps[name] = functools.partial(model.inner_step, task.support, model.inner_optimizers())
    times, ratios = interleaved(steps, device, args.repeats)
    pose, image = task.support["pose"], task.support["image"]
    loo = timed(lambda: WarpInput().within_batch(pose, image, leave_one_out(image)), device, 3)["min_ms"]
    kept = WarpInput()
    reused = timed(lambda: kept.channels(pose, image), device, 3)["min_ms"]  # the same frames: found again
    query = timed(lambda: models["warp"].predict(task.query), device, 3)["min_ms"]
    inner = statistics.median(times["warp"])
    flops = flops_of(steps["warp"])
    return {
        "benchmark": "pose2im-warp-vs-unet",
        "inner_iteration_k5_ms": {name: round(statistics.median(values), 1) for name, values in times.items()},
        "ratio_warp_over_unet": spread(ratios),
        "rounds": args.repeats,
        "leave_one_out_warp_of_5_support_frames_ms": round(loo, 1),
        "warp_share_of_first_inner_iteration": round(loo / (loo + inner), 3),
        "warp_reused_ms": round(reused, 2),
        "warp_share_of_later_inner_iterations": round(reused / (reused + inner), 4),
        "predict_16_queries_ms": round(query, 1),
        "inner_iteration_gflop": round(flops / 1e9, 3),
        "achieved_gflops": round(flops / (inner / 1000) / 1e9, 1),
        "matmul_peak_gflops": matmul_peak_gflops(device),
    }


def inference_fps(model: Any, batch: int, channels: int, repeats: int) -> dict[str, float]:
    """Generator frames per second at ``batch`` frames per call, without gradients (on CPU also from CPU time)."""
    pose = frames(batch, channels, model.architecture.size, model.device)["pose"]
    model.set_support(frames(5, channels, model.architecture.size, model.device))
    with torch.no_grad():
        result = timed(lambda: model.generate(pose), model.device, repeats)
    fps = {"fps": round(batch / (result["min_ms"] / 1000), 2)}
    if "cpu_min_ms" in result:
        fps["fps_from_cpu_time"] = round(batch / (result["cpu_min_ms"] / 1000), 2)
    return fps


def peak_memory_mb(device: torch.device) -> float:
    """Peak GPU memory allocated, or this process's peak resident memory on CPU, in MiB."""
    if device.type == "cuda":
        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure(scale: str, args: argparse.Namespace) -> dict[str, Any]:
    """Everything reported for one scale, measured in this process."""
    device = torch.device(args.device)
    torch.manual_seed(0)
    model = build({"scale": scale}, {"in_channels": args.channels, "size": scale_size(scale), **COCO17}).to(device)
    report: dict[str, Any] = {
        "scale": scale,
        "architecture": vars(Pose2ImOptions(scale=scale).architecture()),
        "parameters": {name: sum(p.numel() for p in net.parameters()) for name, net in model.networks.items()},
        "inner_iteration_batch8": inner_iteration(model, 8, args.channels, args.repeats),
        "inner_iteration_k5_filled_to_8": inner_iteration(model, 5, args.channels, args.repeats),
        "generator_fps": {f"batch{b}": inference_fps(model, b, args.channels, args.repeats) for b in (1, 8)},
    }
    report["peak_memory_mb"] = peak_memory_mb(device)
    if args.vgg:
        report["inner_iteration_batch8_with_vgg"] = with_vgg(scale, args, device)
        report["peak_memory_mb_with_vgg"] = peak_memory_mb(device)
    return report


def with_vgg(scale: str, args: argparse.Namespace, device: torch.device) -> dict[str, float]:
    """Inner-iteration time with the VGG19 perceptual loss on (randomly initialized weights: same cost)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "vgg19.pth")
        torch.save({f"features.{k}": v for k, v in VGG19Features().features.state_dict().items()}, path)
        options = {"scale": scale, "vgg_weights": path}
        model = build(options, {"in_channels": args.channels, "size": scale_size(scale), **COCO17}).to(device)
    return inner_iteration(model, 8, args.channels, args.repeats)


def run_in_subprocess(scale: str, args: argparse.Namespace) -> dict[str, Any]:
    """:func:`measure` in a fresh interpreter, so each scale's peak memory is its own."""
    command = [sys.executable, __file__, "--one", scale, "--device", args.device, "--repeats", str(args.repeats),
               "--channels", str(args.channels), "--threads", str(args.threads),
               *(["--vgg"] if args.vgg else [])]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cuda = torch.cuda.is_available()
    parser.add_argument("--scales", default="tiny,small,paper" if cuda else "tiny,small", help="comma-separated")
    parser.add_argument("--device", default="cuda" if cuda else "cpu")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per measurement (after 2 warm-ups)")
    parser.add_argument("--channels", type=int, default=17, help="pose channels (17: COCO keypoints)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch intra-op threads")
    parser.add_argument("--vgg", action="store_true", help="also time the VGG19 perceptual loss")
    parser.add_argument("--before-after", action="store_true", help="small now vs before the U-Net, interleaved")
    parser.add_argument("--warp-vs-unet", action="store_true", help="warp-and-refine vs U-Net, interleaved")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one scale in this process
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.one:
        print(json.dumps(measure(args.one, args)))
        return
    if args.warp_vs_unet:
        print(json.dumps({**warp_vs_unet(args), "threads": torch.get_num_threads()}, indent=2))
        return
    if args.before_after:
        print(json.dumps({**before_after(args), "threads": torch.get_num_threads()}, indent=2))
        return
    load_before = os.getloadavg()
    scales = [run_in_subprocess(scale, args) for scale in args.scales.split(",")]
    report = {
        "benchmark": "pose2im",
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "pose_channels": args.channels,
        "scales": scales,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

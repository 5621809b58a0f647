"""MetaPix's Table 1 on the synthetic dancers, at the CPU scale: Random vs Pretrain vs MetaPix.

Pretrain trains Pose2Im jointly on the training dancers; MetaPix starts from that model and meta-trains
it with Reptile (preset ``metapix``); each init is then personalized on every held-out dancer from K frames
for T iterations and scored on that dancer's later frames (SSIM, PSNR, MSE on 0–255 images, temporal
coherence). Prints one JSON object.

    python benchmarks/metapix_quality.py [--meta-iterations 250] [--k 5] [--t 10] [--out runs/metapix-quality]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from metaframe.checkpoint import load_into
from metaframe.cli.options import resolve
from metaframe.evaluate import mean_scores, personalize_and_score
from metaframe.plugins import load_plugins
from metaframe.runner import start_run, train
from metaframe.session import build_session


def meta_train(plugins, algorithm: str, explicit: dict, out: Path, init: Path | None) -> float:
    """Train one run folder; returns its wall-clock seconds."""
    config = resolve(plugins, algorithm, "pose2im", "video-shot", None, None, [], explicit)
    started = time.perf_counter()
    session, outer, start = start_run(config, plugins, out, init)
    train(session, outer, out, start, show_progress=False)
    return time.perf_counter() - started


def score(plugins, explicit: dict, weights: Path | None) -> dict:
    """Personalize ``weights`` (None: a random init) on every held-out dancer and average the scores."""
    config = resolve(plugins, "reptile", "pose2im", "video-shot", None, None, [], explicit)
    session = build_session(config, plugins)
    if weights is not None:
        load_into(session.model, weights / "model.safetensors")
    rows = personalize_and_score(session.model, session.sampler.eval_tasks(), config.settings.t, seed=0)
    return mean_scores(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meta-iterations", type=int, default=250)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--t", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--out", type=Path, default=Path("runs/metapix-quality"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    plugins = load_plugins()
    explicit = {"k": args.k, "t": args.t, "meta_iterations": args.meta_iterations, "device": "cpu"}
    out = args.out / time.strftime("%Y%m%d-%H%M%S")
    seconds = {
        "pretrain": meta_train(plugins, "pretrain", explicit, out / "pretrain", None),
        "metapix": meta_train(plugins, "reptile", explicit, out / "metapix", out / "pretrain"),
    }
    results = {
        "random": score(plugins, explicit, None),
        "pretrain": score(plugins, explicit, out / "pretrain"),
        "metapix": score(plugins, explicit, out / "metapix"),
    }
    report = {"k": args.k, "t": args.t, "meta_iterations": args.meta_iterations, "train_seconds": seconds}
    print(json.dumps({**report, "results": results, "runs": str(out)}, indent=2))


if __name__ == "__main__":
    main()

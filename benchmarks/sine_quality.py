"""Quality check on the sine toy: meta-train each algorithm, then personalize on held-out tasks.

Prints one JSON object: per algorithm the query MSE at K and T after personalization, the training
time, and each meta-learner's ratio to the pretrain baseline (target: pretrain / meta-learned ≥ 3).

    python benchmarks/sine_quality.py [--meta-iterations 1000] [--out runs/sine-quality]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from metaframe.plugins import load_plugins
from metaframe.resolve import resolve
from metaframe.scoring import mean_scores, personalize_and_score
from metaframe.training import start_training, train

ALGORITHMS = ("reptile", "fomaml", "maml", "pretrain")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meta-iterations", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--t", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("runs/sine-quality"))
    args = parser.parse_args()
    plugins = load_plugins()
    results = {}
    for algorithm in ALGORITHMS:
        explicit = {"k": args.k, "t": args.t, "meta_iterations": args.meta_iterations, "device": "cpu"}
        config = resolve(plugins, algorithm, "mlp", "sine", None, None, [], explicit)  # the presets apply
        started = time.perf_counter()
        out = args.out / f"{algorithm}-{int(time.time())}"
        training = start_training(config, plugins, out, None)
        train(training, show_progress=False)
        setup = training.setup
        seconds = time.perf_counter() - started
        rows = personalize_and_score(setup.model, setup.sampler.eval_tasks(), args.t)
        results[algorithm] = {
            "mse": mean_scores(rows)["mse"],
            "train_seconds": round(seconds, 1),
            "preset": config.preset,
            "algorithm_options": config.options["algorithm"],
        }
    baseline = results["pretrain"]["mse"]
    for algorithm in ALGORITHMS[:3]:
        results[algorithm]["pretrain_over_this"] = baseline / results[algorithm]["mse"]
    print(json.dumps({"k": args.k, "t": args.t, "meta_iterations": args.meta_iterations, "results": results}, indent=2))


if __name__ == "__main__":
    main()

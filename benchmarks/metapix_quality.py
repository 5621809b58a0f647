"""MetaPix's Table 1 at the CPU scale, beside the references that learn nothing; prints one JSON object.

Rows, each personalized on every held-out dancer from K = 5 support frames for T = 20 iterations (the
references are not personalized) and scored on 16 later frames, full frame and inside the person's box:

* ``copy-nearest``, ``mean-support``, ``warp``: predictors that learn nothing (the warp moves the support
  frames part by part onto each query pose);
* ``random``: a fresh model;
* ``pretrain``: the shipped pretrained ``small`` model (``model.init=pretrained``), where MetaPix starts;
* ``pretrain-equal``: that model trained on for as many more inner steps as MetaPix takes (the same
  total compute as pretrain + MetaPix, without meta-learning);
* ``metapix``: Reptile from the shipped model, preset ``metapix`` (the README's main job).

    python benchmarks/metapix_quality.py                              # trains metapix and pretrain-equal
    python benchmarks/metapix_quality.py --metapix runs/metapix       # reuse a finished main-job run
    python benchmarks/metapix_quality.py --real runs/sports2d         # also score a prepared real dataset

``--real DIR`` scores the same inits on a dataset made by ``metaframe prepare --split eval``: K = 5
support frames from the first 85 % of the person's shot, queries from the rest.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from metaframe.build import build_setup
from metaframe.checkpoint import load_into
from metaframe.plugins import load_plugins
from metaframe.references import references
from metaframe.resolve import resolve
from metaframe.scoring import mean_scores, personalize_and_score, score_reference
from metaframe.training import start_training, train

PRETRAINED = {"model.init": "pretrained"}
SHIPPED_RECIPE = {"algorithm.use_query": "false"}  # how the shipped weights were pretrained (pretrained/small.json)


def config_for(plugins: Any, algorithm: str, explicit: dict, sets: dict[str, Any]) -> Any:
    """The run configuration of ``algorithm`` on pose2im/video-shot with ``--set`` style overrides."""
    assignments = [f"{key}={value}" for key, value in sets.items()]
    return resolve(plugins, algorithm, "pose2im", "video-shot", None, None, assignments, explicit)


def meta_train(plugins: Any, algorithm: str, explicit: dict, sets: dict[str, Any], out: Path) -> float:
    """Train one run folder; returns its wall-clock seconds."""
    started = time.perf_counter()
    train(start_training(config_for(plugins, algorithm, explicit, sets), plugins, out, None), show_progress=False)
    return round(time.perf_counter() - started, 1)


def score(plugins: Any, explicit: dict, sets: dict[str, Any], init: str | Path | None) -> dict[str, float]:
    """Mean scores of one init over the held-out tasks (a reference name, a run folder, or None: as built)."""
    weights = PRETRAINED if init == "pretrained" else {"model.init": "none"}
    config = config_for(plugins, "reptile", explicit, {**weights, **sets})
    setup = build_setup(config, plugins)
    tasks = setup.sampler.eval_tasks()
    if isinstance(init, str) and init in references(plugins):
        return mean_scores(score_reference(setup.model, tasks, references(plugins)[init]))
    if isinstance(init, Path):
        load_into(setup.model, init / "model.safetensors")
    rows = personalize_and_score(setup.model, tasks, config.settings.t, seed=0)
    return mean_scores(rows)


def table(plugins: Any, explicit: dict, sets: dict[str, Any], runs: dict[str, Path]) -> dict[str, dict]:
    """Every row of the benchmark on the task ``sets`` describe."""
    rows: dict[str, Any] = {name: score(plugins, explicit, sets, name) for name in references(plugins)}
    rows["random"] = score(plugins, explicit, sets, None)
    rows["pretrain"] = score(plugins, explicit, sets, "pretrained")
    rows.update({name: score(plugins, explicit, sets, folder) for name, folder in runs.items()})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metapix", type=Path, help="a finished metapix run to score instead of training one")
    parser.add_argument("--pretrain-equal", type=Path, help="a finished equal-compute pretrain run to reuse")
    parser.add_argument("--real", type=Path, help="also score on this prepared real dataset")
    parser.add_argument("--out", type=Path, default=Path("runs/metapix-quality"))
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    plugins = load_plugins()
    explicit = {"k": 5, "t": 20, "device": "cpu"}
    out = args.out / time.strftime("%Y%m%d-%H%M%S")
    seconds: dict[str, float] = {}
    runs = {"metapix": args.metapix, "pretrain-equal": args.pretrain_equal}
    metapix_iterations = plugins.presets.get("metapix").factory.settings["meta_iterations"]
    if runs["metapix"] is None:
        seconds["metapix"] = meta_train(plugins, "reptile", explicit, {}, out / "metapix")
        runs["metapix"] = out / "metapix"
    if runs["pretrain-equal"] is None:  # as many inner steps as MetaPix's meta-iterations × T
        equal = {**explicit, "meta_iterations": metapix_iterations}
        sets = {**PRETRAINED, **SHIPPED_RECIPE}
        seconds["pretrain-equal"] = meta_train(plugins, "pretrain", equal, sets, out / "pretrain-equal")
        runs["pretrain-equal"] = out / "pretrain-equal"
    report: dict[str, Any] = {"k": 5, "t": 20, "train_seconds": seconds, "runs": {k: str(v) for k, v in runs.items()}}
    report["synthetic"] = table(plugins, explicit, {}, runs)
    if args.real is not None:
        report["real"] = table(plugins, explicit, {"task.data": args.real}, runs)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

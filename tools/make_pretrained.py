"""Make the pretrained ``small`` Pose2Im that metaframe ships (``model.init=pretrained``).

    python tools/make_pretrained.py                          # pretrain (about 20 min on 2 cores), then ship
    python tools/make_pretrained.py --from-run runs/pretrain-small   # ship an existing pretrain run

It runs the recorded ``metaframe run pretrain`` command on the synthetic dancers' *training* identities
only (the sampler never draws a held-out one), then writes, beside the package's code,
``pretrained/small.safetensors`` (the run's weights) and ``pretrained/small.json`` (the command, seed,
dataset, training and held-out identities, last losses, and the file's SHA-256).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

from metaframe.config import Config
from metaframe.plugins import get_plugins
from metaframe_pose2im.weights import PRETRAINED_DIR

SCALE = "small"
COMMAND = [
    "metaframe", "run", "pretrain", "--model", "pose2im", "--task", "video-shot", "--meta-batch", "4",
    "--set", "model.batch_size=20", "--set", "model.lambda_l1=100", "--set", "model.lambda_fm=0",
    "--set", "model.lambda_gan=0.1", "--set", "algorithm.use_query=false", "--meta-iterations", "25",
    "--t", "20", "--set", "checkpoint_every=5", "--set", "sample_every=0", "--seed", "1",
]  # fmt: skip


def identities(config: Config) -> dict[str, list[str]]:
    """The training and held-out identities of the run's task, as its sampler splits them."""
    sampler = get_plugins().tasks.get(config.task).build(config.options["task"], k=config.settings.k)
    sampler.load()
    return {
        "train": sorted({record.identity for record in sampler.train}),
        "eval": sorted({record.identity for record in sampler.eval}),
    }


def last_losses(run: Path) -> dict[str, float]:
    """The last metrics line of the run."""
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return json.loads(lines[-1]) if lines else {}


def ship(run: Path) -> Path:
    """Copy ``run``'s weights into the package and record where they came from."""
    record = json.loads((run / "run.json").read_text())
    if record.get("status") != "finished":
        raise SystemExit(f"{run} is not a finished run (status {record.get('status')!r})")
    config = Config.from_json(record["config"])
    weights = PRETRAINED_DIR / f"{SCALE}.safetensors"
    PRETRAINED_DIR.mkdir(exist_ok=True)
    shutil.copyfile(run / "model.safetensors", weights)
    facts = {
        "scale": SCALE,
        "command": COMMAND,
        "config": record["config"],
        "model_notes": record["provenance"]["model_notes"],
        "identities": identities(config),
        "last_losses": last_losses(run),
        "torch": record["provenance"]["torch"],
        "made": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
    }
    (PRETRAINED_DIR / f"{SCALE}.json").write_text(json.dumps(facts, indent=2) + "\n")
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from-run", type=Path, help="ship this finished pretrain run instead of training one")
    parser.add_argument("--out", type=Path, default=Path("runs/pretrain-small"), help="run folder to train into")
    args = parser.parse_args()
    run = args.from_run
    if run is None:
        subprocess.run([*COMMAND, "--out", str(args.out)], check=True)
        run = args.out
    print(f"shipped {ship(run)}", file=sys.stderr)


if __name__ == "__main__":
    main()

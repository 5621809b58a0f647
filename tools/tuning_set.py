"""Make a tuning set: some *training* dancers of a rendered dataset relabelled as its held-out split.

The warp's constants were chosen on such sets (docs/reference/warp.md), so that nothing is ever tuned on
the evaluation dancers: the set holds the dataset's training videos only, the chosen ones marked ``eval``,
each a link to the rendered frames (nothing is copied). Evaluation dancers cannot be chosen.

    python tools/tuning_set.py ~/.cache/metaframe/synthetic-dancers/HASH --hold-out train-000,train-013 --out runs/tune
    metaframe eval --init warp --set task.data=runs/tune

(``HASH``: the folder whose ``dataset.json`` says the seed you want; ``metaframe eval`` renders the dancers
of a seed the first time it is run with ``--set task.seed=N``.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from metaframe.api import UsageError
from metaframe_video.dataset import read_index, staged_folder, write_index


def make(source: Path, hold_out: list[str], out: Path) -> Path:
    """Write the tuning set into ``out`` (which must not exist) and return its ``dataset.json``."""
    if not hold_out:
        raise SystemExit("error: --hold-out names no video; give training video ids, comma-separated")
    try:
        record = read_index(source)  # checked: every id is a plain folder name inside ``source``
    except UsageError as error:
        raise SystemExit(f"error: {error}") from None
    split = {video["id"]: video.get("split") for video in record["videos"]}
    if unknown := [name for name in hold_out if name not in split]:
        raise SystemExit(f"error: {', '.join(unknown)}: no such video in {source}")
    if evaluation := [name for name in hold_out if split[name] != "train"]:
        raise SystemExit(
            f"error: {', '.join(evaluation)} are held out in {source}; a tuning set holds training videos only"
        )
    if out.exists():
        raise SystemExit(f"error: {out} exists; give a new folder to --out")
    videos = [
        {**video, "split": "eval" if video["id"] in hold_out else "train"}
        for video in record["videos"]
        if video.get("split") == "train"
    ]
    extra = {key: value for key, value in record.items() if key not in ("format", "keypoints", "size", "videos")}
    with staged_folder(out) as staging:  # nothing half-written is left at ``out``
        for video in videos:
            (staging / video["id"]).symlink_to((source / video["id"]).resolve(), target_is_directory=True)
        write_index(staging, record["size"], videos, **extra)
    return out / "dataset.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="a rendered (or prepared) dataset folder")
    parser.add_argument("--hold-out", required=True, help="training video ids to score on, comma-separated")
    parser.add_argument("--out", type=Path, required=True, help="the new folder to write")
    arguments = parser.parse_args()
    names = [name for name in arguments.hold_out.split(",") if name]
    written = make(arguments.source, names, arguments.out)
    print(f"wrote {written}: {len(names)} training videos held out; use --set task.data={arguments.out}")


if __name__ == "__main__":
    main()

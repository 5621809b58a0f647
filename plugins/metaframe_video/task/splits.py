"""Which shots train and which evaluate, and where a shot's support frames end (the 85:15 split)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from metaframe.api import UsageError

SPLITS = ("train", "eval")


@dataclass
class ShotRecord:
    """What the sampler keeps of one shot: its frame files and its keypoints (N×17×3)."""

    video: str
    identity: str
    shot: str
    split: str | None
    paths: list[Path] = field(repr=False)
    keypoints: np.ndarray = field(repr=False)

    @property
    def frames(self) -> int:
        """Number of frames in the shot."""
        return len(self.paths)


def support_end(frames: int) -> int:
    """Frames ``[0, end)`` may be support frames, ``[end, frames)`` query frames: the paper's 85:15 split."""
    return frames * 85 // 100


def assign_splits(
    records: list[ShotRecord], eval_identities: int, eval_seed: int
) -> tuple[list[ShotRecord], list[ShotRecord]]:
    """Split shots into training and evaluation shots by identity, so no held-out person is ever trained on.

    A split recorded in the dataset is kept. Identities with no recorded split are divided here:
    ``eval_identities`` of them, chosen with ``eval_seed``, are held out, but never the last one left to
    train on (a dataset prepared from one video trains on it, and has no held-out tasks).
    """
    recorded = identity_splits(records)
    unsplit = sorted({r.identity for r in records} - set(recorded))
    trains = "train" in recorded.values()
    order = torch.randperm(len(unsplit), generator=torch.Generator().manual_seed(eval_seed)).tolist()
    held_out = {unsplit[i] for i in order[: min(eval_identities, len(unsplit) - (not trains))]}
    split = {**recorded, **{name: "eval" if name in held_out else "train" for name in unsplit}}
    train = [r for r in records if split[r.identity] == "train"]
    return train, [r for r in records if split[r.identity] == "eval"]


def identity_splits(records: list[ShotRecord]) -> dict[str, str]:
    """The split each identity's videos record; an identity in both splits is a UsageError."""
    splits: dict[str, str] = {}
    for record in records:
        if record.split is None:
            continue
        if record.split not in SPLITS:
            raise UsageError(f"video {record.video} has split {record.split!r}; expected 'train' or 'eval'")
        if splits.setdefault(record.identity, record.split) != record.split:
            raise UsageError(
                f"identity {record.identity} has both training and evaluation videos; "
                "give each person one split in dataset.json"
            )
    return splits

"""Task ``video-shot``: personalize a pose-to-image model to one shot of one person's video.

A task is one shot. As in MetaPix, the shot is split 85:15 in time: the K support frames come from the
first 85%, the query frames from the last 15%, so a model is always scored on frames it has not seen
(and on poses that come later in the video). Each example is ``{"pose": C×S×S heatmaps in [0, 1],
"image": 3×S×S in [-1, 1], "keypoints": 17×3 COCO-17 (x, y in pixels of the S×S frame, score)}``.

Training tasks draw a training shot, K support frames and ``query`` query frames at random from the
generator they are given. Evaluation tasks are one per held-out shot, with K support frames drawn from
``eval_seed`` and ``eval_query`` query frames evenly spaced over the last 15%.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from metaframe.api import Batch, Capability, Task, TaskSampler, UsageError, say
from metaframe_video.dataset import frame_paths, read_frames, read_index, read_keypoints
from metaframe_video.framesheet import show_frames
from metaframe_video.synthetic.world import SyntheticConfig, dataset_folder
from metaframe_video.task import pose
from metaframe_video.task.splits import ShotRecord, assign_splits, support_end

WORLD = SyntheticConfig()
"""The default synthetic world: the task's synthetic options (and ``size``) take their defaults from it."""


@dataclass
class VideoShotOptions:
    """Options of the ``video-shot`` task (``--set task.KEY=VALUE``).

    ``identities``, ``eval_identities``, ``frames``, ``seed`` and ``clips`` describe the synthetic dancers,
    used when ``data`` is ``None``: they mean what the fields of the same names of
    :class:`~metaframe_video.synthetic.world.SyntheticConfig` mean and take its defaults (:data:`WORLD`).
    ``eval_identities`` also holds out that many identities of a dataset that records no split.

    :param data: a dataset folder made by ``metaframe prepare``; ``None`` uses the synthetic dancers.
    :param size: frame side in pixels (frames of another size are resized when loaded); set it to the
        model's size. The synthetic dancers are rendered at this size.
    :param sigma: standard deviation of each keypoint's Gaussian, in pixels; ``None``: size / 64.
    :param limbs: add one channel per limb (a Gaussian ridge between its keypoints) to the 17 keypoint
        channels.
    :param query: query frames of a training task (from the last 15% of its shot).
    :param eval_query: query frames of an evaluation task, evenly spaced over the last 15%.
    :param eval_seed: seed of the evaluation tasks' support frames and of the held-out identities of a
        dataset that records no split.
    :param skip_short: leave out shots too short for K + query frames (and say how many) instead of
        stopping with an error.
    """

    data: Path | None = None
    size: int = WORLD.size
    sigma: float | None = None
    limbs: bool = False
    query: int = 8
    eval_query: int = 16
    eval_seed: int = 0
    identities: int = WORLD.identities
    eval_identities: int = WORLD.eval_identities
    frames: int = WORLD.frames
    seed: int = WORLD.seed
    clips: tuple[str, ...] = WORLD.clips
    skip_short: bool = False

    def __post_init__(self) -> None:
        if self.size < 8:
            raise UsageError(f"task.size must be at least 8 pixels, got {self.size}")
        if self.sigma is not None and self.sigma <= 0:
            raise UsageError(f"task.sigma must be positive, got {self.sigma}")
        if self.query < 1 or self.eval_query < 1:
            raise UsageError("task.query and task.eval_query must be at least 1")
        if self.eval_identities < 0:
            raise UsageError(f"task.eval_identities must be 0 or more, got {self.eval_identities}")

    def synthetic(self) -> SyntheticConfig:
        """The synthetic dataset these options describe."""
        return dataclasses.replace(
            WORLD,
            seed=self.seed,
            identities=self.identities,
            eval_identities=self.eval_identities,
            frames=self.frames,
            size=self.size,
            clips=tuple(self.clips),
        )


class VideoShotTasks(TaskSampler):
    """Few-shot tasks from the shots of a video dataset (synthetic dancers by default)."""

    # pose heatmaps (C = info["in_channels"]), S×S frames in [-1, 1], COCO-17 keypoints (x, y in pixels, score)
    batch_keys = {"pose": ("B", "C", "S", "S"), "image": ("B", 3, "S", "S"), "keypoints": ("B", 17, 3)}
    capabilities = frozenset({Capability.SHOW})

    def __init__(self, options: VideoShotOptions, k: int) -> None:
        self.options, self.k = options, k
        self.root: Path | None = None
        self.train: list[ShotRecord] = []
        self.eval: list[ShotRecord] = []
        self._eval_tasks: list[Task] | None = None

    def load(self) -> None:
        """Read the dataset's index and keypoints (rendering the synthetic dancers the first time)."""
        if self.root is not None:
            return
        options = self.options
        root = Path(options.data).expanduser() if options.data is not None else dataset_folder(options.synthetic())
        index = read_index(root)
        records = [load_record(root, video, shot) for video in index["videos"] for shot in video["shots"]]
        train, eval_ = assign_splits(records, options.eval_identities, options.eval_seed)
        self.train = self.usable(train, options.query, "training")
        self.eval = self.usable(eval_, options.eval_query, "evaluation")
        self.root = root

    def show(self, examples: Mapping[str, Tensor], folder: Path) -> dict[str, Any]:
        """Rows of frames as a strip (PNG), a side-by-side mp4 and ``frames.safetensors`` (:func:`show_frames`)."""
        return show_frames(examples, folder)

    @property
    def info(self) -> dict[str, Any]:
        return {
            "in_channels": pose.channels(self.options.limbs),
            "size": self.options.size,
            "keypoints": "coco17",
            "limbs": self.options.limbs,
        }

    def sample(self, generator: torch.Generator) -> Task:
        self.load()
        if not self.train:
            raise UsageError(f"{self.root} has no training videos; add videos or lower task.eval_identities")
        record = self.train[int(torch.randint(len(self.train), (1,), generator=generator))]
        end = support_end(record.frames)
        support = torch.randperm(end, generator=generator)[: self.k].tolist()
        query = (end + torch.randperm(record.frames - end, generator=generator)[: self.options.query]).tolist()
        return self.make_task(record, sorted(support), sorted(query))

    def eval_tasks(self) -> list[Task]:
        self.load()
        if not self.eval:
            raise UsageError(
                f"{self.root} has no held-out videos; prepare some with --split eval or raise task.eval_identities"
            )
        if self._eval_tasks is None:
            generator = torch.Generator().manual_seed(self.options.eval_seed)
            self._eval_tasks = [self.eval_task(record, generator) for record in self.eval]
        return self._eval_tasks

    def eval_task(self, record: ShotRecord, generator: torch.Generator) -> Task:
        """A held-out shot's task: seeded support frames, query frames evenly spaced over the last 15%."""
        end = support_end(record.frames)
        support = sorted(torch.randperm(end, generator=generator)[: self.k].tolist())
        query = np.linspace(end, record.frames - 1, self.options.eval_query).round().astype(int).tolist()
        return self.make_task(record, support, query)

    def make_task(self, record: ShotRecord, support: list[int], query: list[int]) -> Task:
        """The task of ``record`` with the given support and query frame indices."""
        meta = {
            "video": record.video,
            "identity": record.identity,
            "shot": record.shot,
            "frames": record.frames,
            "split": support_end(record.frames),  # support frames come from [0, split), query frames after
            "support": support,
            "query": query,
        }
        return Task(f"{record.video}/{record.shot}", self.batch(record, support), self.batch(record, query), meta)

    def batch(self, record: ShotRecord, indices: list[int]) -> Batch:
        """Pose images and frames of ``record`` at ``indices``."""
        size = self.options.size
        frames = read_frames(record.paths, indices)
        scale = size / frames.shape[2]  # keypoints are pixels of the stored frames, whatever their size
        if frames.shape[1:3] != (size, size):
            frames = np.stack([np.asarray(Image.fromarray(f).resize((size, size), Image.LANCZOS)) for f in frames])
        keypoints = record.keypoints[indices] * np.float32([scale, scale, 1])
        # numpy, not torch, for the same reason as in pose.render: no contention with training's threads
        image = np.ascontiguousarray(frames.transpose(0, 3, 1, 2), dtype=np.float32) * np.float32(1 / 127.5) - 1
        return {
            "pose": pose.render(keypoints, size, self.options.sigma, self.options.limbs),
            "image": torch.from_numpy(image),
            "keypoints": torch.from_numpy(np.ascontiguousarray(keypoints, dtype=np.float32)),
        }

    def usable(self, records: list[ShotRecord], query: int, purpose: str) -> list[ShotRecord]:
        """The shots long enough for K support and ``query`` query frames; others are an error (or skipped)."""
        short = [r for r in records if not long_enough(r.frames, self.k, query)]
        if short and not self.options.skip_short:
            r = short[0]
            end = support_end(r.frames)
            raise UsageError(
                f"shot {r.video}/{r.shot} has {r.frames} frames: {end} before the 85% split and {r.frames - end} "
                f"after, but {purpose} needs K={self.k} support and {query} query frames; lower k or "
                f"task.{'eval_query' if purpose == 'evaluation' else 'query'}, or set task.skip_short=true"
            )
        if short:
            say(f"video-shot: leaving out {len(short)} {purpose} shot(s) too short for K={self.k} + {query} frames")
        return [r for r in records if long_enough(r.frames, self.k, query)]


def long_enough(frames: int, k: int, query: int) -> bool:
    """Whether a shot of ``frames`` frames holds K support frames before the split and ``query`` after it."""
    end = support_end(frames)
    return k <= end and query <= frames - end


def load_record(root: Path, video: dict[str, Any], shot: dict[str, Any]) -> ShotRecord:
    """A shot's frame files and keypoints (frames themselves are read only when a task needs them)."""
    paths = frame_paths(root, video, shot)
    keypoints = read_keypoints(root, video, shot, len(paths))
    return ShotRecord(video["id"], video.get("identity", video["id"]), shot["id"], video.get("split"), paths, keypoints)


def build(options: VideoShotOptions, k: int) -> VideoShotTasks:
    """One shot of one person's video: K (pose, frame) pairs to personalize on, later frames to score."""
    return VideoShotTasks(options, k)


# The contract tests build every registered task with its test options: a tiny world.
TEST_OPTIONS = {"identities": 3, "eval_identities": 2, "frames": 24, "size": 32, "query": 3, "eval_query": 4}

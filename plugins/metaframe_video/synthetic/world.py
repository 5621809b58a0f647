"""The embedded default dataset: synthetic dancers, rendered once per configuration and cached.

Each identity (:func:`identities`) is drawn from its own seed: training identities from
``(seed, 0, i)``, held-out ones from ``(seed, 1, j)``, so the two sets never share a draw, and a held-out
identity whose colours come too close to a training one is drawn again. The videos are written in the
shared dataset format (:mod:`metaframe_video.dataset`) under ``CACHE/synthetic-dancers/HASH`` where
``HASH`` covers the configuration, :data:`FORMAT_VERSION` and pybullet's version.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from metaframe.api import UsageError, console_err, say
from metaframe_video.dataset import staged_folder, write_index, write_shot
from metaframe_video.synthetic.identity import Identity, draw_identity, look_signature
from metaframe_video.synthetic.motion import CLIPS

FORMAT_VERSION = 1
"""Bump when the renderer changes what it draws: every cached dataset is then rendered again."""
MIN_LOOK_DISTANCE = 0.35  # a held-out person must differ from every training one by this much (RGB, 15-D)
PARALLEL_FROM = 600  # frames: below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class SyntheticConfig:
    """Everything that decides the synthetic dataset's pixels (and so its cache folder).

    The defaults here are declared once: the ``video-shot`` task's options take theirs from them.

    :param seed: seed of the synthetic world (identities, motions, cameras).
    :param identities: training identities (one video each).
    :param eval_identities: held-out identities (one video each), never seen in training.
    :param frames: frames per video.
    :param size: frame side in pixels.
    :param clips: motion-capture clips identities may dance (names from
        :data:`~metaframe_video.synthetic.motion.CLIPS`).
    :param fps: video frame rate; clips recorded at other rates are resampled.
    """

    seed: int = 0
    identities: int = 24
    eval_identities: int = 8
    frames: int = 120
    size: int = 128
    clips: tuple[str, ...] = CLIPS
    fps: float = 30.0

    def __post_init__(self) -> None:
        unknown = [c for c in self.clips if c not in CLIPS]
        if unknown or not self.clips:
            named = f"unknown motion clip(s) {', '.join(unknown)}" if unknown else "no motion clips given"
            raise UsageError(f"{named}; choose task.clips from {', '.join(CLIPS)}")
        if self.identities < 1 or self.eval_identities < 1 or self.frames < 2 or self.size < 8:
            raise UsageError(
                "synthetic dancers need at least 1 training and 1 held-out identity, 2 frames and 8 px "
                f"(task.identities={self.identities}, task.eval_identities={self.eval_identities}, "
                f"task.frames={self.frames}, task.size={self.size})"
            )

    def key(self) -> str:
        """A short hash naming this configuration's cache folder."""
        payload = {**dataclasses.asdict(self), "format": FORMAT_VERSION, "pybullet": metadata.version("pybullet")}
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def cache_root() -> Path:
    """Where metaframe caches data: ``$METAFRAME_CACHE``, else the user's cache folder."""
    configured = os.environ.get("METAFRAME_CACHE")
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("metaframe"))


def dataset_folder(config: SyntheticConfig) -> Path:
    """The folder of ``config``'s dataset, rendering it first if it is not in the cache yet."""
    folder = cache_root() / "synthetic-dancers" / config.key()
    if (folder / "dataset.json").is_file():
        return folder
    check_writable(folder.parent)
    started = time.perf_counter()
    videos = config.identities + config.eval_identities
    say(f"rendering synthetic dancers: {videos} videos × {config.frames} frames at {config.size} px → {folder}")
    try:
        with staged_folder(folder) as staging:
            render_all(config, staging)
    except OSError as error:
        raise UsageError(
            f"could not write the synthetic dataset under {folder.parent} ({error.strerror}); "
            f"free some space or set METAFRAME_CACHE to another folder"
        ) from None
    say(f"synthetic dancers ready in {time.perf_counter() - started:.1f} s")
    return folder


def check_writable(folder: Path) -> None:
    """Fail early, in one line, when the cache cannot be written (before any rendering)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UsageError(
            f"the cache folder {folder} is not writable ({reason}); set METAFRAME_CACHE to a writable folder"
        ) from None


def identities(config: SyntheticConfig) -> list[tuple[Identity, str]]:
    """Every identity of the dataset with its split (``train`` or ``eval``), deterministic in the seed."""
    train = [
        draw_identity(f"train-{i:03d}", np.random.default_rng([config.seed, 0, i]), config.clips)
        for i in range(config.identities)
    ]
    signatures = np.stack([look_signature(identity) for identity in train])
    held_out = [distinct_identity(config, j, signatures) for j in range(config.eval_identities)]
    return [(identity, "train") for identity in train] + [(identity, "eval") for identity in held_out]


def distinct_identity(config: SyntheticConfig, index: int, train: np.ndarray) -> Identity:
    """Held-out identity ``index``: redrawn until it does not look like any training identity."""
    for attempt in range(100):
        rng = np.random.default_rng([config.seed, 1, index, attempt])
        identity = draw_identity(f"eval-{index:03d}", rng, config.clips)
        if np.linalg.norm(train - look_signature(identity), axis=1).min() > MIN_LOOK_DISTANCE:
            return identity
    return identity  # unreachable in practice: 18 random colour values almost never all come close


def render_all(config: SyntheticConfig, root: Path) -> None:
    """Render every video into ``root`` and write its index, with a progress bar on stderr."""
    jobs = identities(config)
    workers = min(os.cpu_count() or 1, len(jobs)) if len(jobs) * config.frames >= PARALLEL_FROM else 1
    columns = (TextColumn("synthetic dancers"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console_err, transient=True) as progress:
        bar = progress.add_task("render", total=len(jobs))
        entries = []
        for entry in render_videos(jobs, config, root, workers):
            entries.append(entry)
            progress.advance(bar)
    write_index(root, config.size, entries, synthetic=dataclasses.asdict(config))


def render_videos(
    jobs: list[tuple[Identity, str]], config: SyntheticConfig, root: Path, workers: int
) -> Iterator[dict[str, Any]]:
    """Yield each video's index entry, in order, as it is written; ``workers`` > 1 renders in parallel processes."""
    if workers == 1:
        from metaframe_video.synthetic.dancer import DancerRenderer

        with DancerRenderer() as renderer:
            for identity, split in jobs:
                yield render_video(renderer, identity, split, config, root)
        return
    # spawn, not fork: the parent may hold torch's thread pools, which do not survive a fork
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=start_worker) as pool:
        futures = [pool.submit(render_in_worker, identity, split, config, root) for identity, split in jobs]
        try:
            for future in futures:
                yield future.result()
        finally:  # after a failure, do not render the videos still waiting: their folder is being deleted
            for future in futures:
                future.cancel()


def render_video(renderer: Any, identity: Identity, split: str, config: SyntheticConfig, root: Path) -> dict[str, Any]:
    """Render and write one identity's video; returns its entry for ``dataset.json``."""
    frames, keypoints = renderer.render(identity, config.frames, config.size, config.fps)
    shot = write_shot(root, identity.name, "shot-000", frames, keypoints)
    look = dataclasses.asdict(identity)
    return {"id": identity.name, "identity": identity.name, "split": split, "shots": [shot], "synthetic": look}


_worker_renderer: Any = None


def start_worker() -> None:
    """Process-pool initializer: one pybullet session per worker, reused for all its videos."""
    global _worker_renderer
    from metaframe_video.synthetic.dancer import DancerRenderer

    _worker_renderer = DancerRenderer()


def render_in_worker(identity: Identity, split: str, config: SyntheticConfig, root: Path) -> dict[str, Any]:
    """:func:`render_video` with the worker's own renderer."""
    return render_video(_worker_renderer, identity, split, config, root)

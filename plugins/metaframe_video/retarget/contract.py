"""What ``metaframe retarget`` asks of a task (capability :data:`FOOTAGE`): a person, and a motion to give
them, read from outside its dataset. The video plugin owns this contract; a third-party task that reads
footage declares :data:`FOOTAGE` (a :class:`~metaframe.api.Capability` the engine holds it to: a task declaring it
must define both methods) and implements :class:`FootageReader`'s two methods with these types.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from torch import Tensor

from metaframe.api import Batch, Capability

FOOTAGE = Capability("footage", ("target_examples", "source_motion"))
"""The task reads a person, and a motion to give them, from outside its dataset (a recording, photos, a
prepared folder): it implements :meth:`FootageReader.target_examples` and :meth:`FootageReader.source_motion`
(what ``metaframe retarget`` needs)."""


@dataclass(frozen=True)
class Footage:
    """Where a person is to be read from, for retargeting; the task says which kinds it understands.

    :param spec: what the user typed: a path (a recording, an image, a folder) or a name the task knows.
    :param keypoints: keypoints another tool wrote for it (e.g. a folder of OpenPose JSON files), used
        instead of estimating the poses.
    :param person: who to follow when several people are in view (``largest``, or N counted from the left).
    :param max_frames: read at most this many frames (None: all).
    """

    spec: str
    keypoints: Path | None = None
    person: str = "largest"
    max_frames: int | None = None

    @property
    def name(self) -> str:
        """A short name for file names and reports: the path's stem, or what follows a ``kind:`` prefix."""
        return Path(self.spec.rpartition(":")[2] or self.spec).stem or "footage"


class Motion(ABC):
    """A source's motion, ready to render, one frame at a time: what :meth:`FootageReader.source_motion` gives.

    :attr fps: frames per second of the source.
    :attr report: JSON facts for the retargeting summary (frames without a pose and how they were filled,
        the normalization and smoothing applied).
    """

    fps: float
    report: dict[str, Any]

    @abstractmethod
    def __len__(self) -> int:
        """Number of source frames; one output frame is rendered for each."""

    @abstractmethod
    def poses(self, start: int, stop: int) -> Batch:
        """The model's inputs (e.g. ``pose``, ``keypoints``) of frames ``start`` … ``stop - 1``."""

    @abstractmethod
    def pictures(self, start: int, stop: int) -> tuple[Tensor, Tensor]:
        """The source frames and a drawing of the poses given to the model, each uint8 B×H×W×3, of frames
        ``start`` … ``stop - 1`` (the side-by-side's first two panels)."""


class FootageReader(Protocol):
    """The two methods of a task that declares :data:`FOOTAGE`."""

    def target_examples(self, target: Footage, k: int | None) -> Batch:
        """K examples of the person in ``target``, as a support batch.

        ``k`` None: the task's own K, or every usable frame of a target that has fewer (one photo gives
        K = 1); a ``k`` larger than the target has frames is a UsageError.
        """
        ...

    def source_motion(self, source: Footage, target: Footage, smooth: bool = True, normalize: bool = True) -> Motion:
        """The motion of the person in ``source``, as model inputs one per source frame, carried into
        ``target``'s frame (``normalize``: their size and where they stand) and, with ``smooth``, with its
        per-frame jitter filtered out."""
        ...


@runtime_checkable
class TargetPictures(Protocol):
    """A method a footage-reading task may add: ``retarget`` then writes the target's sheet (``-target.png``)."""

    def target_pictures(self, support: Batch) -> Tensor:
        """The support examples drawn for a person to check (uint8 K×H×W×3), e.g. frames with the skeletons
        found in them: where pose estimation failed, it shows."""
        ...

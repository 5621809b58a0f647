"""Predictors that learn nothing: the reference rows every learned image score is read against.

They belong to the engine, not to a plugin: they need only the :data:`~metaframe.protocols.IMAGES`
contract — batches that hold ``image`` (the images to predict) and ``pose`` (what each is predicted
from, optionally with ``keypoints``), and a model that scores given images. A learned model is only
useful if it beats simply copying what the support set shows:

* ``copy-nearest``: for each query example, the support image whose pose is nearest (mean distance of the
  keypoints both poses show; the pose tensors' distance when the batch holds no ``keypoints``);
* ``mean-support``: the mean of the K support images, the same for every query example.

They are scored with the model's own :meth:`~metaframe.protocols.TaskModel.score_images`. Plugins add
stronger ones through the ``register_references`` hook; :func:`references` lists them all.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from metaframe.errors import UsageError
from metaframe.plugins import Plugins
from metaframe.protocols import IMAGES, Batch, TaskModel

Reference = Callable[[Batch, Batch], Tensor]


def keypoint_distances(a: Tensor, b: Tensor) -> Tensor:
    """A×B mean pixel distance between the keypoints (J×3: x, y, confidence) two poses both show;
    infinite for two poses that share none."""
    both = (a[:, None, :, 2] > 0) & (b[None, :, :, 2] > 0)
    distance = (a[:, None, :, :2] - b[None, :, :, :2]).norm(dim=-1)
    shared = both.sum(-1)
    mean = (distance * both).sum(-1) / shared.clamp(min=1)
    return torch.where(shared > 0, mean, torch.full_like(mean, float("inf")))


def pose_distances(query: Batch, support: Batch) -> Tensor:
    """Q×K distances between the query poses and the support poses."""
    if "keypoints" in query and "keypoints" in support:
        return keypoint_distances(query["keypoints"], support["keypoints"])
    return torch.cdist(query["pose"].flatten(1).float(), support["pose"].flatten(1).float())


def copy_nearest(support: Batch, query: Batch) -> Tensor:
    """Each query image predicted as the support image with the nearest pose."""
    return support["image"][pose_distances(query, support).argmin(1)]


def mean_support(support: Batch, query: Batch) -> Tensor:
    """Every query image predicted as the mean support image."""
    return support["image"].mean(0, keepdim=True).expand_as(query["image"])


REFERENCES: dict[str, Reference] = {"copy-nearest": copy_nearest, "mean-support": mean_support}
"""The engine's own references."""


def references(plugins: Plugins) -> dict[str, Reference]:
    """Every reference by name: the engine's own, then those the plugins register."""
    return {**REFERENCES, **{entry.name: entry.factory for entry in plugins.references}}


def check_reference(name: str, model_name: str, model: TaskModel, batch: Batch, plugins: Plugins) -> Reference:
    """The reference ``name``, after checking that the model can score images and the batches hold them."""
    missing = [key for key in ("image", "pose") if key not in batch]
    if missing:
        raise UsageError(
            f"--init {name} copies support images by pose, but this task's batches hold "
            f"{', '.join(sorted(batch))} (no {' or '.join(missing)}); use it with a task of images and poses"
        )
    if IMAGES not in model.capabilities:
        raise UsageError(
            f"--init {name} needs a model that scores images (capability 'images'); model {model_name!r} "
            "does not declare it"
        )
    reference = references(plugins)[name]
    reference(batch, {key: value[:1] for key, value in batch.items()})  # refuses unreadable batches before any work
    return reference

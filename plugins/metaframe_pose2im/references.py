"""Predictors that learn nothing, for models that draw images from poses: the reference rows every
learned image score is read against (registered with ``register_references`` in :mod:`.plugin`).

They read the batches of a task of images and poses — ``image`` (the images to predict) and ``pose``
(what each is predicted from, optionally with ``keypoints``) — and are scored with the model's own
metrics (:meth:`~metaframe_pose2im.model.Pose2ImModel.score_predictions`). A learned model is only useful if
it beats simply copying what the support set shows:

* ``copy-nearest``: for each query example, the support image whose pose is nearest (mean distance of the
  keypoints both poses show; the pose tensors' distance when the batch holds no ``keypoints``);
* ``mean-support``: the mean of the K support images, the same for every query example;
* ``warp`` (:mod:`.warp`): the support images moved part by part onto each query pose.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from metaframe.api import Batch, UsageError

Reference = Callable[[Batch, Batch], Tensor]
NEEDED = ("image", "pose")


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


def of_images_and_poses(name: str, reference: Reference) -> Reference:
    """``reference``, refusing with one line (naming ``--init NAME``) a task whose batches hold no images and poses."""

    def checked(support: Batch, query: Batch) -> Tensor:
        missing = [key for key in NEEDED if key not in support]
        if missing:
            raise UsageError(
                f"--init {name} copies support images by pose, but this task's batches hold "
                f"{', '.join(sorted(support))} (no {' or '.join(missing)}); use it with a task of images and poses"
            )
        return reference(support, query)

    checked.__doc__ = reference.__doc__
    return checked

"""A per-body-part warp of the support frames onto a new pose: the strongest predictor that learns nothing.

Appearance is moved, not painted. Each support frame is cut into body parts from its COCO-17 keypoints
(torso, head, upper and lower arms and legs, hands and feet riding on the forearms and shins); each part is
moved with the transform that maps its keypoints in the support onto those of the pose to draw, and the
parts are painted back to front over a background plate. The K support frames are fused per part, each
weighted by how close its part pose is to the new one, so the arm comes from the frame where the arm was
held alike and the torso from the frame where the torso was.

The silhouette is the support frame's own, not a capsule: a part's pixels are those of its region that
differ from the background plate (the support frames' mean where they do not show the person, holes
filled from around them), so feet, hair and clothes keep their shape.

Everything is differentiable tensors on the frames' device; no weights. :func:`warp` is what the ``warp``
reference row predicts, and :class:`Warped` is what the warp-and-refine generator starts from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from metaframe.api import Batch, UsageError

VISIBLE = 0.3  # a keypoint with a lower score is one the pose does not show
FOREGROUND = 0.12  # mean absolute difference from the plate (frames in [-1, 1]) above which a pixel is the person
FOREGROUND_SOFTNESS = 0.03
EDGE = 0.8  # soft edge of a part's region, in pixels
SIMILARITY = 0.35  # how fast a support's weight for a part falls with its pose difference (radians and log-scale)
PLATE_MARGIN = 0.1  # the person region kept out of the plate: the parts grown by this share of the body scale
COVER_GAIN = 2.0  # a part half covered by the fused supports is drawn whole: fusing should not fade it
LEVELS = 7  # push-pull levels that fill the plate where no support frame shows the background


@dataclass(frozen=True)
class Part:
    """One body part: the COCO-17 keypoints its transform is fitted to, and the region it covers.

    :param kind: ``limb`` (a segment from the first keypoint to the second, possibly extended past it),
        ``torso`` (the shoulders' and hips' quadrilateral) or ``head`` (a disc around the face keypoints).
    :param width: half-width of a limb, radius of the head, margin of the torso: a share of the body scale.
    :param extend: how far a limb reaches past its second keypoint (hand, foot): a share of its length.
    """

    name: str
    joints: tuple[int, ...]
    kind: str
    width: float
    extend: float = 0.0


# Painted in this order, back to front: legs behind the torso, arms and head in front of it. The widths
# were chosen on training and validation dancers only (docs/reference/warp.md has the sweeps).
PARTS = (
    Part("left_thigh", (11, 13), "limb", 0.15),
    Part("right_thigh", (12, 14), "limb", 0.15),
    Part("left_shin", (13, 15), "limb", 0.13, 0.30),
    Part("right_shin", (14, 16), "limb", 0.13, 0.30),
    Part("torso", (5, 6, 11, 12), "torso", 0.06),
    Part("head", (0, 1, 2, 3, 4), "head", 0.36),
    Part("left_upper_arm", (5, 7), "limb", 0.11),
    Part("right_upper_arm", (6, 8), "limb", 0.11),
    Part("left_forearm", (7, 9), "limb", 0.10, 0.15),
    Part("right_forearm", (8, 10), "limb", 0.10, 0.15),
)
TORSO = (5, 6, 12, 11)  # the torso's corners in order around it


# -- keypoints ----------------------------------------------------------------------------------------------
# Body-scale cues: two keypoint groups whose midpoints' distance is about this share of the torso length
# (mid-shoulders to mid-hips) on an upright person: torso, shoulder width, thighs, shins, upper arms.
SCALE_CUES = (
    ((5, 6), (11, 12), 1.0),
    ((5,), (6,), 0.75),
    ((11,), (13,), 0.88),
    ((12,), (14,), 0.88),
    ((13,), (15,), 0.86),
    ((14,), (16,), 0.86),
    ((5,), (7,), 0.59),
    ((6,), (8,), 0.59),
)
SCALE_FLOOR = 0.8  # the torso length is taken as at least this share of the other segments' estimate


def body_scale(keypoints: Tensor, size: int) -> Tensor:
    """B: the person's size in pixels, as a torso length (mid-shoulders to mid-hips).

    The torso's own length, but never less than :data:`SCALE_FLOOR` of what the other segments say: a torso
    seen end-on (a person rolling or bending towards the camera) shrinks to a few pixels and would make
    every part a thread. Each segment that both its ends show gives an estimate (its length over its share
    of the torso, :data:`SCALE_CUES`); a foreshortened segment only looks shorter, so the *second largest*
    estimate is the one used, which one misplaced keypoint cannot inflate. Without the torso, that
    estimate; without any, a share of the visible keypoints' height, else a quarter of the frame.
    """
    visible = keypoints[..., 2] > VISIBLE
    estimates = []
    for a, b, share in SCALE_CUES:
        length = (keypoints[:, list(a), :2].mean(1) - keypoints[:, list(b), :2].mean(1)).norm(dim=-1) / share
        shown = visible[:, list(a + b)].all(1)
        estimates.append(torch.where(shown, length, torch.full_like(length, -1.0)))
    ranked = torch.stack(estimates, 1).sort(dim=1, descending=True).values
    count = (ranked >= 0).sum(1)
    cued = torch.where(count >= 2, ranked[:, 1], ranked[:, 0])
    y = keypoints[..., 1]
    big = torch.finfo(y.dtype).max
    height = torch.where(visible, y, -big).amax(1) - torch.where(visible, y, big).amin(1)
    height = torch.where(visible.sum(1) >= 2, height / 3, torch.full_like(height, size / 4))
    torso = estimates[0]
    cued = torch.where(torso >= 0, torch.maximum(torso, SCALE_FLOOR * cued), cued)
    return torch.where(count >= 1, cued, height).clamp(min=size / 32)


def neck_point(keypoints: Tensor) -> Tensor:
    """B×3: the mid-shoulder point, as sure as the less sure shoulder."""
    neck = (keypoints[:, 5] + keypoints[:, 6]) / 2
    neck[:, 2] = torch.minimum(keypoints[:, 5, 2], keypoints[:, 6, 2])
    return neck


def head_points(keypoints: Tensor, scale: Tensor) -> Tensor:
    """B×2×3: the head's centre (the face keypoints' mean, else above the neck) and the neck."""
    face = keypoints[:, :5]
    seen = (face[..., 2] > VISIBLE).to(face.dtype)
    count = seen.sum(1)
    centre = (face[..., :2] * seen[..., None]).sum(1) / count.clamp(min=1)[:, None]
    neck = neck_point(keypoints)
    above = neck[:, :2] - torch.stack([torch.zeros_like(scale), 0.45 * scale], dim=-1)
    centre = torch.where((count > 0)[:, None], centre, above)
    shown = ((count > 0) | (neck[:, 2] > VISIBLE)).to(face.dtype)
    return torch.stack([torch.cat([centre, shown[:, None]], -1), neck], dim=1)


# -- transforms: query pixel → support pixel ----------------------------------------------------------------
def limb_transforms(query: Tensor, support: Tensor, q_scale: Tensor, s_scale: Tensor) -> tuple[Tensor, Tensor]:
    """Q×K×2×3 maps of a segment (``query``: Q×2×2, ``support``: K×2×2): along the limb its length is
    matched, across it the body scale, so a foreshortened arm stays as wide as it was; and Q×K costs
    (angle difference and log length ratio)."""
    dq = query[:, None, 1] - query[:, None, 0]  # Q×1×2
    ds = support[None, :, 1] - support[None, :, 0]  # 1×K×2
    floor_q, floor_s = 0.15 * q_scale[:, None], 0.15 * s_scale[None, :]
    len_q, len_s = dq.norm(dim=-1).clamp(min=1e-3), ds.norm(dim=-1).clamp(min=1e-3)
    uq, us = dq / len_q[..., None], ds / len_s[..., None]
    along = len_s.clamp(min=floor_s) / len_q.clamp(min=floor_q)
    across = s_scale[None, :] / q_scale[:, None]
    rotate_q = torch.stack([uq, perpendicular(uq)], dim=-1)  # columns: along, across (query)
    rotate_s = torch.stack([us, perpendicular(us)], dim=-1)
    linear = rotate_s @ torch.diag_embed(torch.stack([along, across], -1)) @ rotate_q.transpose(-1, -2)
    offset = support[None, :, 0] - (linear @ query[:, None, 0, :, None]).squeeze(-1)
    angle = torch.atan2(cross(uq, us), (uq * us).sum(-1))
    cost = angle**2 + torch.log(along / across) ** 2
    return torch.cat([linear, offset[..., None]], dim=-1), cost


def fitted_transforms(query: Tensor, support: Tensor, affine: bool) -> tuple[Tensor, Tensor]:
    """Q×K×2×3 least-squares maps of point sets (``query``: Q×N×3, ``support``: K×N×3, points both show),
    a similarity, or an affine map drawn towards the similarity; and Q×K costs (rotation, log scale, and
    the fit's residual over the scale)."""
    w = ((query[:, None, :, 2] > VISIBLE) & (support[None, :, :, 2] > VISIBLE)).to(query.dtype)  # Q×K×N
    total = w.sum(-1, keepdim=True).clamp(min=1e-6)
    p, s = query[:, None, :, :2], support[None, :, :, :2]
    p_mean = (w[..., None] * p).sum(-2) / total
    s_mean = (w[..., None] * s).sum(-2) / total
    pc, sc = (p - p_mean[..., None, :]) * w[..., None], s - s_mean[..., None, :]
    # similarity: x_s = a·x_q + b·perp(x_q), the complex-number least squares
    norm = (pc**2).sum((-1, -2)).clamp(min=1e-6)
    a = (pc * sc).sum((-1, -2)) / norm
    b = cross(pc, sc).sum(-1) / norm
    similar = torch.stack([torch.stack([a, -b], -1), torch.stack([b, a], -1)], -2)
    linear = similar
    if affine:
        ridge = 0.5 * norm / 4  # the similarity counts as much as half the points
        eye = torch.eye(2, dtype=query.dtype, device=query.device)
        gram = pc.transpose(-1, -2) @ pc + ridge[..., None, None] * eye
        moment = sc.transpose(-1, -2) @ pc + ridge[..., None, None] * similar
        linear = moment @ torch.linalg.inv(gram)
    offset = s_mean - (linear @ p_mean[..., None]).squeeze(-1)
    scale = (a**2 + b**2).sqrt().clamp(min=1e-3)
    residual = ((pc @ linear.transpose(-1, -2) - sc * w[..., None]) ** 2).sum((-1, -2)) / total.squeeze(-1)
    cost = torch.atan2(b, a) ** 2 + torch.log(scale) ** 2 + residual / (norm / total.squeeze(-1)).clamp(min=1e-6)
    cost = torch.where(total.squeeze(-1) >= 2, cost, torch.full_like(cost, math.inf))
    return torch.cat([linear, offset[..., None]], dim=-1), cost


def closeness(cost: Tensor) -> Tensor:
    """Q×K fusion weights from Q×K costs: 1 for each pose's closest support frame, falling with the
    difference from it, so that a pose unlike every support still takes the least unlike; 0 where the
    cost is infinite (the part is missing there)."""
    best = cost.amin(1, keepdim=True)
    weight = torch.exp(-(cost - torch.where(best.isfinite(), best, torch.zeros_like(best))) / SIMILARITY**2)
    return torch.nan_to_num(weight, nan=0.0)


def perpendicular(v: Tensor) -> Tensor:
    """``v`` turned a quarter clockwise in image coordinates (y down): (x, y) → (−y, x)."""
    return torch.stack([-v[..., 1], v[..., 0]], dim=-1)


def cross(u: Tensor, v: Tensor) -> Tensor:
    """The 2D cross product u × v over the last dimension."""
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


# -- regions ------------------------------------------------------------------------------------------------
def pixel_grid(size: int, like: Tensor) -> Tensor:
    """S×S×2 pixel centres (x, y)."""
    centres = torch.arange(size, device=like.device, dtype=like.dtype) + 0.5
    y, x = torch.meshgrid(centres, centres, indexing="ij")
    return torch.stack([x, y], dim=-1)


def segment_distance(grid: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """B×S×S distance of each pixel to the segment a→b (B×2 each)."""
    d = b - a
    t = ((grid[None] - a[:, None, None]) * d[:, None, None]).sum(-1) / (d**2).sum(-1).clamp(min=1e-6)[:, None, None]
    nearest = a[:, None, None] + t.clamp(0, 1)[..., None] * d[:, None, None]
    return (grid[None] - nearest).norm(dim=-1)


def polygon_distance(grid: Tensor, corners: Tensor) -> Tensor:
    """B×S×S signed distance (negative inside) to a convex polygon of B×N×2 corners (either orientation)."""
    edges = corners.roll(-1, dims=1) - corners
    normal = perpendicular(edges) / edges.norm(dim=-1, keepdim=True).clamp(min=1e-6)  # B×N×2
    inward = ((corners.mean(1, keepdim=True) - corners) * normal).sum(-1).sum(1)  # the centre's side
    normal = normal * -torch.sign(inward + 1e-9)[:, None, None]  # now pointing out of the polygon
    offsets = grid[None, None] - corners[:, :, None, None]  # B×N×S×S×2
    return (offsets * normal[:, :, None, None]).sum(-1).amax(1)


def part_regions(keypoints: Tensor, scale: Tensor, size: int, grow: float = 0.0) -> Tensor:
    """B×P×S×S soft regions of every part of :data:`PARTS` (0 where its keypoints are missing),
    each grown by ``grow`` body scales."""
    grid = pixel_grid(size, keypoints)
    head = head_points(keypoints, scale)
    regions = []
    for part in PARTS:
        width = (part.width + grow) * scale[:, None, None]
        if part.kind == "limb":
            a, b = keypoints[:, part.joints[0]], keypoints[:, part.joints[1]]
            tip = b[:, :2] + part.extend * (b[:, :2] - a[:, :2])
            distance = segment_distance(grid, a[:, :2], tip) - width
            shown = (a[:, 2] > VISIBLE) & (b[:, 2] > VISIBLE)
        elif part.kind == "torso":
            corners = keypoints[:, list(TORSO)]
            distance = polygon_distance(grid, corners[..., :2]) - width
            shown = (corners[..., 2] > VISIBLE).all(1)
        else:
            distance = torch.minimum(
                (grid[None] - head[:, 0, None, None, :2]).norm(dim=-1) - width,
                segment_distance(grid, head[:, 0, :2], head[:, 1, :2]) - 0.5 * width,
            )
            shown = head[:, 0, 2] > 0
        regions.append(torch.sigmoid(-distance / EDGE) * shown[:, None, None].to(distance.dtype))
    return torch.stack(regions, dim=1)


def in_front(regions: Tensor) -> Tensor:
    """B×P×S×S: each part's region less what the parts painted after it cover (who owns each pixel)."""
    covered = torch.ones_like(regions[:, :1])
    owned = torch.empty_like(regions)
    for p in reversed(range(regions.shape[1])):
        owned[:, p] = regions[:, p] * covered[:, 0]
        covered = covered * (1 - regions[:, p : p + 1])
    return owned


# -- the background plate -----------------------------------------------------------------------------------
def fill_holes(image: Tensor, known: Tensor, levels: int = LEVELS) -> Tensor:
    """``image`` (B×C×S×S) where ``known`` (B×1×S×S, 0–1) is 1, filled elsewhere from around it (push-pull:
    averages of the known pixels at ever coarser scales, brought back up)."""
    if levels == 0 or min(image.shape[-2:]) < 2:
        mean = (image * known).sum((-1, -2), keepdim=True) / known.sum((-1, -2), keepdim=True).clamp(min=1e-6)
        return known * image + (1 - known) * mean
    coarse_known = F.avg_pool2d(known, 2)
    coarse = F.avg_pool2d(image * known, 2) / coarse_known.clamp(min=1e-6)
    coarse = fill_holes(coarse, (4 * coarse_known).clamp(max=1), levels - 1)
    up = F.interpolate(coarse, size=image.shape[-2:], mode="bilinear", align_corners=False)
    return known * image + (1 - known) * up


def background_plate(images: Tensor, person: Tensor) -> tuple[Tensor, Tensor]:
    """1×3×S×S plate: the mean of the K ``images`` where their ``person`` regions (K×1×S×S) are absent,
    holes filled from around them; and 1×1×S×S how much of each pixel was seen."""
    seen = 1 - person
    weight = seen.sum(0, keepdim=True)
    plate = (images * seen).sum(0, keepdim=True) / weight.clamp(min=1e-6)
    known = weight.clamp(max=1)
    return fill_holes(plate, known), known


# -- the warp -----------------------------------------------------------------------------------------------
@dataclass
class Warped:
    """A warp of K support frames onto Q poses.

    :param image: Q×3×S×S the fused warp painted over the plate (what the reference row predicts).
    :param person: Q×1×S×S how much of each pixel the warped person covers.
    :param plate: Q×3×S×S the background plate (the same for every pose).
    :param known: Q×1×S×S how much of the plate some support frame shows (0: filled from around).
    """

    image: Tensor
    person: Tensor
    plate: Tensor
    known: Tensor

    def channels(self) -> Tensor:
        """Q×8×S×S: warp, plate, person cover, plate seen; what the refining generator reads."""
        return torch.cat([self.image, self.plate, self.person, self.known], dim=1)


WARP_CHANNELS = 8


class SupportParts:
    """The K support frames cut into parts once, ready to be warped onto any pose."""

    def __init__(self, images: Tensor, keypoints: Tensor) -> None:
        size = images.shape[-1]
        self.images, self.keypoints = images.float(), keypoints.float()
        self.scale = body_scale(self.keypoints, size)
        regions = part_regions(self.keypoints, self.scale, size)
        person = part_regions(self.keypoints, self.scale, size, grow=PLATE_MARGIN).amax(1, keepdim=True)
        self.plate, self.known = background_plate(self.images, person)
        difference = (self.images - self.plate).abs().mean(1, keepdim=True)
        moved = torch.sigmoid((difference - FOREGROUND) / FOREGROUND_SOFTNESS)
        foreground = person * (self.known * moved + (1 - self.known))
        self.owned = in_front(regions) * foreground  # K×P×S×S

    def warp(self, keypoints: Tensor) -> Warped:
        """The support frames warped onto Q poses (``keypoints``: Q×17×3)."""
        keypoints = keypoints.to(self.images)
        q, size = len(keypoints), self.images.shape[-1]
        scale = body_scale(keypoints, size)
        owned_here = in_front(part_regions(keypoints, scale, size))
        plate, known = self.plate.expand(q, -1, -1, -1), self.known.expand(q, -1, -1, -1)
        out = plate.clone()
        person = torch.zeros_like(plate[:, :1])
        grid = pixel_grid(size, keypoints)
        for p, part in enumerate(PARTS):
            maps, cost = self.transforms(part, keypoints, scale)
            weight = closeness(cost)
            colour, alpha = self.sample(p, maps, grid, weight)
            alpha = alpha * owned_here[:, p : p + 1]
            out = alpha * colour + (1 - alpha) * out
            person = alpha + (1 - alpha) * person
        return Warped(out, person, plate, known)

    def transforms(self, part: Part, keypoints: Tensor, scale: Tensor) -> tuple[Tensor, Tensor]:
        """Q×K×2×3 maps (query pixel → support pixel) of ``part`` and their Q×K costs (inf: unusable)."""
        if part.kind == "limb":
            joints = list(part.joints)
            maps, cost = limb_transforms(keypoints[:, joints, :2], self.keypoints[:, joints, :2], scale, self.scale)
            shown = (self.keypoints[:, joints, 2] > VISIBLE).all(1)
            return maps, torch.where(shown[None], cost, torch.full_like(cost, math.inf))
        if part.kind == "torso":
            return fitted_transforms(keypoints[:, list(part.joints)], self.keypoints[:, list(part.joints)], True)
        points = lambda kp, s: torch.cat([kp[:, : len(part.joints)], head_points(kp, s)[:, 1:]], 1)  # noqa: E731
        return fitted_transforms(points(keypoints, scale), points(self.keypoints, self.scale), False)

    def sample(self, p: int, maps: Tensor, grid: Tensor, weight: Tensor) -> tuple[Tensor, Tensor]:
        """Q×3×S×S colour and Q×1×S×S cover of part ``p``: each usable support frame's pixels at ``maps``,
        fused with ``weight`` (Q×K)."""
        q, k, size = maps.shape[0], maps.shape[1], grid.shape[0]
        where = torch.einsum("qkij,hwj->qkhwi", maps[..., :2], grid) + maps[:, :, None, None, :, 2]
        where = (2 * where / size - 1).flatten(0, 1)  # grid_sample's coordinates (align_corners=False)
        source = torch.cat([self.images * self.owned[:, p : p + 1], self.owned[:, p : p + 1]], dim=1)
        sampled = F.grid_sample(
            source.repeat(q, 1, 1, 1), where, mode="bilinear", padding_mode="zeros", align_corners=False
        ).view(q, k, 4, size, size)
        weight = weight / weight.sum(1, keepdim=True).clamp(min=1e-12)
        weighted = (sampled * weight[:, :, None, None, None]).sum(1)
        alpha = weighted[:, 3:]
        return weighted[:, :3] / alpha.clamp(min=1e-4), (COVER_GAIN * alpha).clamp(max=1)


def warp(support_images: Tensor, support_keypoints: Tensor, query_keypoints: Tensor) -> Tensor:
    """Q×3×S×S: the K support frames (in [-1, 1]) warped part by part onto each query pose and fused."""
    return SupportParts(support_images, support_keypoints).warp(query_keypoints).image.clamp(-1, 1)


def warp_reference(support: Batch, query: Batch) -> Tensor:
    """The support frames moved part by part onto each query pose (COCO-17 keypoints) and fused; learns nothing."""
    for name, batch in (("support", support), ("query", query)):
        keypoints = batch.get("keypoints")
        if keypoints is None or tuple(keypoints.shape[1:]) != (17, 3) or (name == "support" and "image" not in batch):
            raise UsageError(
                f"--init warp moves support images by their COCO-17 keypoints, but this task's {name} batches hold "
                f"{', '.join(sorted(batch))}; use it with a task of images and 17×3 keypoints (e.g. video-shot)"
            )
    return warp(support["image"], support["keypoints"], query["keypoints"])


def heatmap_keypoints(pose: Tensor) -> Tensor:
    """B×17×3 keypoints read off B×C×H×W Gaussian heatmaps (first 17 channels) to a fraction of a pixel:
    the peak, moved by the parabola through the logarithms of its neighbours (exact for a Gaussian)."""
    heat = pose[:, :17].float()
    b, j, h, w = heat.shape
    peak, where = heat.flatten(2).max(dim=2)
    y, x = torch.div(where, w, rounding_mode="floor"), where % w
    padded = F.pad(heat, (1, 1, 1, 1)).clamp(min=1e-6).log()
    batch, joint = torch.arange(b)[:, None].expand(b, j), torch.arange(j)[None].expand(b, j)

    def offset(before: Tensor, centre: Tensor, after: Tensor) -> Tensor:
        curve = before - 2 * centre + after
        return torch.where(curve < -1e-6, 0.5 * (before - after) / curve, torch.zeros_like(curve)).clamp(-0.5, 0.5)

    at = lambda dy, dx: padded[batch, joint, y + 1 + dy, x + 1 + dx]  # noqa: E731
    fine_x = x.to(heat.dtype) + 0.5 + offset(at(0, -1), at(0, 0), at(0, 1))
    fine_y = y.to(heat.dtype) + 0.5 + offset(at(-1, 0), at(0, 0), at(1, 0))
    return torch.stack([fine_x, fine_y, (peak > VISIBLE).to(heat.dtype)], dim=-1)

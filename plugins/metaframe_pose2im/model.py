"""Model ``pose2im``: pix2pixHD's conditional GAN (pose heatmaps → RGB frame) as a :class:`TaskModel`.

One inner iteration is a discriminator step then a generator step, each with its own Adam. The
generator's objective is GAN + feature matching (+ VGG19 perceptual, + L1), always computed against
the discriminator's current weights held fixed, so the same function serves the inner step, FOMAML's
``losses`` and MAML's ``functional_loss``. The iteration exists twice, in place (``inner_step``, what
``adapt`` runs) and on explicit weights (``functional_inner_step``, what MAML differentiates), built from
the same pieces and tested equal.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor, nn
from torch.func import functional_call

from metaframe.api import (
    Batch,
    Capability,
    FunctionalOptimizer,
    OptimizerSpec,
    TaskModel,
    UsageError,
    batch_size,
    of_network,
    strip_prefix,
)
from metaframe_pose2im import losses
from metaframe_pose2im.appearance import Support, keypoints_of, person_boxes
from metaframe_pose2im.metrics import frame_intensities, frame_scores
from metaframe_pose2im.networks import GlobalGenerator, MultiscaleDiscriminator, to_channels_last
from metaframe_pose2im.options import Architecture, Pose2ImOptions
from metaframe_pose2im.refine import WarpRefineGenerator
from metaframe_pose2im.samples import most_different, sample_grid
from metaframe_pose2im.unet import VIEW_CHANNELS, UNetGenerator
from metaframe_pose2im.vgg import PerceptualLoss, load_vgg19
from metaframe_pose2im.warp import WARP_CHANNELS
from metaframe_pose2im.warp_input import WarpInput
from metaframe_pose2im.weights import load_init

PERSON_BOX_PAD = 0.1  # the person-region scores' box: the keypoints' box grown by 10 % of its height
SCORE_CHUNK = 16  # frames generated at once while scoring, to bound memory on long query sets
IMAGE_GOALS = {"ssim": "max", "psnr": "max", "mse": "min"}
# Personalizing the pretrained warp-and-refine generator on a new person's K >= 2 frames: a step 15 times
# the inner loop's 2e-4 (measured on validation dancers, box SSIM: 2e-4 0.848, 1e-3 0.856, 3e-3 0.860;
# meta-training at 3e-3 did worse). From one photo the larger step overfits it: lr stays.
WARP_PERSONAL_LR = 3e-3


def perceptual_loss(options: Pose2ImOptions) -> tuple[PerceptualLoss | None, str]:
    """The VGG19 loss if it is wanted and its weights are given, and a provenance note saying which."""
    if options.lambda_vgg == 0:
        return None, "off: model.lambda_vgg=0"
    if options.vgg_weights is None:
        return None, "off: no VGG19 weights file given (set model.vgg_weights=PATH)"
    return PerceptualLoss(load_vgg19(options.vgg_weights)), f"on: VGG19 weights from {options.vgg_weights}"


def describe(arch: Architecture, in_channels: int) -> str:
    """The resolved architecture in one line, for provenance (scale defaults may change between versions)."""
    fields = ", ".join(f"{key}={value}" for key, value in vars(arch).items())
    return f"{in_channels} pose channels, {fields}"


def inputs(batch: Batch) -> tuple[Tensor, Tensor]:
    """The batch's pose and image in the networks' memory order, converted once rather than per use."""
    return to_channels_last(batch["pose"]), to_channels_last(batch["image"])


def total(terms: dict[str, Tensor]) -> Tensor:
    """The sum of loss terms (a tensor even for one term)."""
    return torch.stack(list(terms.values())).sum()


class Pose2ImModel(TaskModel):
    """pix2pixHD-style Pose2Im GAN: global generator, multi-scale PatchGAN, LSGAN + feature matching + VGG.

    Its :attr:`~metaframe.api.TaskModel.notes` say whether the perceptual loss is on (and why), its
    architecture, and which initial weights it loaded.
    """

    capabilities = frozenset({Capability.FUNCTIONAL, Capability.SAMPLES, Capability.PREDICTIONS, Capability.RENDER})
    functional_networks = ("generator",)
    needs_keys = {"pose": ("B", "C", "H", "W"), "image": ("B", 3, "H", "W")}
    predicts = "image"  # render draws frames (B×3×H×W in [-1, 1]) from the poses alone
    # Temporal coherence has no better direction on its own: a blank output is perfectly steady. It is
    # reported beside the real frames' value, which is what a coherent generated video should match.
    metric_goals = {
        **{f"{where}{name}": goal for where in ("", "person_") for name, goal in IMAGE_GOALS.items()},
        "temporal_std": "info",
        "temporal_std_real": "info",
    }
    metric_scopes: ClassVar[Mapping[str, str]] = {"person_": "inside the person's box (query keypoints + 10 %)"}

    def __init__(self, options: Pose2ImOptions, in_channels: int) -> None:
        arch = options.architecture()
        self.conditioned = arch.generator == "unet"
        self.warp = WarpInput() if arch.generator == "warp" else None
        generator, discriminator = build_networks(arch, in_channels)
        super().__init__({"generator": generator, "discriminator": discriminator})
        self.options, self.architecture, self.in_channels = options, arch, in_channels
        self.support: Support | None = None  # the current task's support frames (reference-conditioned only)
        self.support_frames = 0  # how many frames the current task's support holds
        self.perceptual, note = perceptual_loss(options)
        self.notes.update(perceptual_loss=note, architecture=describe(arch, in_channels))

    def memory_estimate(self, examples: int) -> int:
        """A rough bound from one measurement: an inner step of ``small`` (128 px, ngf 16, batch 8) peaks
        at about 400 MiB above the process's baseline, 50 MiB a frame; it is scaled by the pixels and the
        width, times the batch (K support frames are cycled to fill it), plus the support frames held."""
        arch, pixels = self.architecture, self.architecture.size**2
        per_frame = 50 * 2**20 * (pixels / 128**2) * (max(arch.ngf, arch.ndf) / 16)
        return int(self.options.batch_size * per_frame + examples * pixels * (self.in_channels + 3) * 4)

    # -- the pieces -----------------------------------------------------------------------------------
    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """bfloat16 autocast of what runs inside, with ``bf16``; gradients are taken outside it."""
        if not self.options.bf16:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def generate(self, pose: Tensor, real: Tensor | None = None, params: Mapping[str, Tensor] | None = None) -> Tensor:
        """Frames in [-1, 1] for ``pose``, with the generator's own weights or with ``params`` (unprefixed).

        A reference-conditioned or warp-and-refine generator also sees the support frames (their views,
        or their warp onto the pose): those of the current task's support (:meth:`set_support`) for new
        poses, or, for training frames ``real``, those of the other frames of their own batch, so that a
        frame is never its own reference.
        """
        generator = self.networks["generator"]
        if self.conditioned:
            support = Support(pose, real) if real is not None else self.current_support()
            pose = torch.cat([pose, support.views(pose, real)], dim=1)
        elif self.warp is not None:
            pose = torch.cat([pose, self.warp.channels(pose, real)], dim=1)  # the generator makes it channels-last
        return generator(pose) if params is None else functional_call(generator, dict(params), (pose,))

    def current_support(self) -> Support:
        """The support set by :meth:`set_support`; a model asked to draw before any is given has none."""
        if self.support is None:
            raise RuntimeError("a reference-conditioned pose2im model draws only after set_support (adapt calls it)")
        return self.support

    def discriminate(
        self, pose: Tensor, image: Tensor, fixed: bool = False, params: Mapping[str, Tensor] | None = None
    ) -> losses.Predictions:
        """The discriminator's multi-scale outputs on (pose, image), with its own weights or with ``params``
        (unprefixed); ``fixed``: its weights get no gradient."""
        discriminator = self.networks["discriminator"]
        pair = torch.cat([pose, image], dim=1)
        if params is None and not fixed:
            return discriminator(pair)
        params = dict(discriminator.named_parameters()) if params is None else params
        if fixed:
            params = {key: value.detach() for key, value in params.items()}
        return functional_call(discriminator, dict(params), (pair,))

    def discriminator_loss(
        self,
        pose: Tensor,
        real: Tensor,
        fake: Tensor,
        weights: Tensor | None = None,
        params: Mapping[str, Tensor] | None = None,
    ) -> Tensor:
        """pix2pixHD's D objective: half the GAN loss on real pairs plus on generated pairs (no G gradient),
        with the discriminator's own weights or ``params`` (unprefixed)."""
        mode = self.options.gan_loss
        on_real = losses.gan_loss(self.discriminate(pose, real, params=params), True, mode, weights)
        on_fake = losses.gan_loss(self.discriminate(pose, fake.detach(), params=params), False, mode, weights)
        return 0.5 * (on_real + on_fake)

    def generator_terms(
        self,
        pose: Tensor,
        real: Tensor,
        fake: Tensor,
        weights: Tensor | None = None,
        discriminator: Mapping[str, Tensor] | None = None,
    ) -> dict[str, Tensor]:
        """Each weighted term of the G objective against the discriminator held fixed: its current weights,
        or ``discriminator`` (unprefixed)."""
        opts = self.options
        predicted = self.discriminate(pose, fake, fixed=True, params=discriminator)
        gan = losses.gan_loss(predicted, True, opts.gan_loss, weights, for_discriminator=False)
        terms = {"gan": opts.lambda_gan * gan}
        if opts.lambda_fm > 0:
            with torch.no_grad():
                targets = self.discriminate(pose, real, params=discriminator)
            terms["fm"] = opts.lambda_fm * losses.feature_matching_loss(predicted, targets, weights)
        if self.perceptual is not None:
            terms["vgg"] = opts.lambda_vgg * self.perceptual(fake, real, weights)
        if opts.lambda_l1 > 0:
            terms["l1"] = opts.lambda_l1 * losses.l1_loss(fake, real, weights)
        return terms

    def filled(self, batch: Batch) -> tuple[Tensor, Tensor, Tensor | None]:
        """Pose, image and per-frame weights of an inner-iteration batch of ``batch_size`` frames.

        K < batch size: the K frames are cycled to fill the batch (frame i, i+K, i+2K, ...). With a
        per-frame norm each distinct frame is computed once, weighted by its count (the same loss and
        gradients at K/B of the cost); batch norm needs the real repetition. K > batch size: a random
        subset from torch's global generator, new at every call.
        """
        pose, image = inputs(batch)
        k, size = batch_size(batch), self.options.batch_size
        if k == size:
            return pose, image, None
        if k > size:
            index = torch.randperm(k)[:size].to(pose.device)
            return pose[index], image[index], None
        cycle = torch.arange(size, device=pose.device) % k
        if self.architecture.norm == "batch":
            return pose[cycle], image[cycle], None
        return pose, image, torch.bincount(cycle, minlength=k).to(pose.dtype) / size

    # -- TaskModel ------------------------------------------------------------------------------------
    def inner_optimizer_specs(self) -> dict[str, OptimizerSpec]:
        """Adam for each network (pix2pixHD: lr 2e-4, β 0.5, 0.999), for both inner loops."""
        adam = OptimizerSpec("adam", self.options.lr, (self.options.beta1, self.options.beta2))
        return {name: adam for name in self.networks}

    def inner_optimizers(self, lr: float | None = None) -> dict[str, torch.optim.Optimizer]:
        """A fresh Adam per network, built from :meth:`inner_optimizer_specs` (at ``lr`` when given)."""
        specs = self.inner_optimizer_specs()
        if lr is not None:
            specs = {name: dataclasses.replace(spec, lr=lr) for name, spec in specs.items()}
        return {name: specs[name].build(network.parameters()) for name, network in self.networks.items()}

    def personal_lr(self) -> float:
        """The learning rate of personalization: ``personal_lr`` when set; else, for the warp-and-refine
        generator given two or more support frames, :data:`WARP_PERSONAL_LR`; else ``lr``."""
        if self.options.personal_lr is not None:
            return self.options.personal_lr
        return WARP_PERSONAL_LR if self.warp is not None and self.support_frames >= 2 else self.options.lr

    def personal_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """:meth:`inner_optimizers` at :meth:`personal_lr`: eval, compare, the samples and retarget use them."""
        return self.inner_optimizers(self.personal_lr())

    def inner_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer]) -> dict[str, float]:
        """A discriminator step, then a generator step against the updated discriminator."""
        pose, real, weights = self.filled(batch)
        with self.autocast():
            fake = self.generate(pose, real)
            d_loss = self.discriminator_loss(pose, real, fake, weights)
        optimizers["discriminator"].zero_grad(set_to_none=True)
        d_loss.backward()
        optimizers["discriminator"].step()
        with self.autocast():
            terms = self.generator_terms(pose, real, fake, weights)
            g_loss = total(terms)
        optimizers["generator"].zero_grad(set_to_none=True)
        g_loss.backward()
        optimizers["generator"].step()
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), **{f"g_{k}": v.item() for k, v in terms.items()}}

    def functional_inner_step(
        self, params: Mapping[str, Tensor], optimizers: Mapping[str, FunctionalOptimizer], batch: Batch
    ) -> tuple[dict[str, Tensor], dict[str, FunctionalOptimizer]]:
        """:meth:`inner_step` on explicit weights of both networks: the same filled batch, a D step, then a
        G step against the updated discriminator."""
        pose, real, weights = self.filled(batch)
        d_old, g_old = of_network(params, "discriminator"), of_network(params, "generator")
        fake = self.generate(pose, real, strip_prefix(g_old, "generator"))
        d_loss = self.discriminator_loss(pose, real, fake, weights, strip_prefix(d_old, "discriminator"))
        d_new, d_optimizer = optimizers["discriminator"].step(d_old, d_loss)
        terms = self.generator_terms(pose, real, fake, weights, strip_prefix(d_new, "discriminator"))
        g_new, g_optimizer = optimizers["generator"].step(g_old, total(terms))
        return {**g_new, **d_new}, {"generator": g_optimizer, "discriminator": d_optimizer}

    def losses(self, batch: Batch) -> dict[str, Tensor]:
        """The D and G objectives on ``batch`` as given (no filling), sharing one generator pass."""
        pose, image = inputs(batch)
        with self.autocast():
            fake = self.generate(pose, image)
            return {
                "discriminator": self.discriminator_loss(pose, image, fake),
                "generator": total(self.generator_terms(pose, image, fake)),
            }

    def functional_loss(self, params: Mapping[str, Tensor], batch: Batch) -> Tensor:
        """The G objective with generator weights ``params`` (``generator.*``) against the discriminator,
        fixed (no gradient): its weights in ``params`` (``discriminator.*``) when given, else its own."""
        pose, image = inputs(batch)
        with self.autocast():
            fake = self.generate(pose, image, strip_prefix(params, "generator"))
            discriminator = strip_prefix(params, "discriminator") or None
            return total(self.generator_terms(pose, image, fake, discriminator=discriminator))

    def set_support(self, support: Batch) -> None:
        """Keep the task's support frames: a reference-conditioned or warp-and-refine generator draws new
        poses from them."""
        self.support_frames = len(support["image"])
        if self.warp is not None:
            self.warp.set_support(support)
        if self.conditioned:
            pose, image = inputs(support)
            self.support = Support(pose, image)

    @torch.no_grad()
    def predict(self, batch: Batch) -> Tensor:
        """The generated frames (in [-1, 1], float32) for every pose of ``batch``, in chunks to bound memory."""
        poses = to_channels_last(batch["pose"])
        with self.autocast():
            frames = [self.generate(poses[i : i + SCORE_CHUNK]) for i in range(0, len(poses), SCORE_CHUNK)]
        return torch.cat(frames).float()

    def render(self, batch: Batch) -> Tensor:
        """Frames (in [-1, 1]) for ``batch``'s poses: what ``metaframe retarget`` writes."""
        return self.predict(batch)

    @torch.no_grad()
    def score(self, batch: Batch) -> dict[str, float]:
        """:meth:`score_predictions` of this model's own frames for ``batch``'s poses."""
        return self.score_predictions(self.predict(batch), batch)

    @torch.no_grad()
    def score_predictions(self, predicted: Tensor, batch: Batch) -> dict[str, float]:
        """Mean SSIM, PSNR (dB) and MSE of ``predicted`` against ``batch``'s frames on 0–255 images, over the
        full frame and inside each frame's person box (``person_*``), and the temporal coherence (MetaPix's:
        std over frames of each frame's mean intensity) of the predicted and the real frames."""
        real = batch["image"]
        boxes = person_boxes(keypoints_of(batch["pose"]), PERSON_BOX_PAD, 0.0, real.shape[-1])
        per_frame: dict[str, list[Tensor]] = {}
        for start in range(0, len(real), SCORE_CHUNK):
            chunk = slice(start, start + SCORE_CHUNK)
            for name, values in frame_scores(predicted[chunk], real[chunk], boxes[chunk]).items():
                per_frame.setdefault(name, []).append(values)
        scores = {name: torch.cat(values).mean().item() for name, values in per_frame.items()}
        temporal = {
            "temporal_std": frame_intensities(predicted).std(correction=0).item(),
            "temporal_std_real": frame_intensities(real).std(correction=0).item(),
        }
        return {**scores, **temporal}

    @torch.no_grad()
    def render_samples(self, batch: Batch) -> Tensor:
        """A uint8 picture: for the ``sample_rows`` frames of most different poses, pose | generated | real."""
        rows = most_different(keypoints_of(batch["pose"]), self.options.sample_rows)
        pose, real = batch["pose"][rows], batch["image"][rows]
        return sample_grid(pose, self.predict({"pose": pose}), real)

    def to(self, device: torch.device | str) -> Pose2ImModel:
        """Move both networks and the VGG19 loss network to ``device``."""
        super().to(device)
        if self.perceptual is not None:
            self.perceptual.to(device)
        return self


def build_networks(arch: Architecture, in_channels: int) -> tuple[nn.Module, MultiscaleDiscriminator]:
    """The generator (pix2pixHD's, the reference-conditioned U-Net or the warp-and-refine U-Net) and
    discriminator of ``arch``."""
    generator: nn.Module
    if arch.generator == "warp":
        channels = in_channels + WARP_CHANNELS
        generator = WarpRefineGenerator(channels, arch.ngf, arch.n_downsample, arch.n_blocks, arch.norm)
    elif arch.generator == "unet":
        generator = UNetGenerator(in_channels + VIEW_CHANNELS, arch.ngf, arch.n_downsample, arch.n_blocks, arch.norm)
    else:
        generator = GlobalGenerator(in_channels, 3, arch.ngf, arch.n_downsample, arch.n_blocks, arch.norm, arch.padding)
    return generator, MultiscaleDiscriminator(in_channels + 3, arch.ndf, arch.n_layers_d, arch.num_d, arch.norm)


def check_task(arch: Architecture, options: Pose2ImOptions, task_info: dict[str, Any]) -> int:
    """The task's pose channels, after checking that its frames have the size the model is built for."""
    if "in_channels" not in task_info:
        raise UsageError(
            "model pose2im needs a task of pose heatmaps and frames (its info lacks 'in_channels'), e.g. video-shot"
        )
    if arch.generator == "warp" and task_info.get("keypoints") != "coco17":
        raise UsageError(
            "model.generator=warp moves body parts by COCO-17 keypoints, but this task's poses are not COCO-17 "
            "heatmaps; use a task whose info says keypoints=coco17 (video-shot) or set model.generator=unet"
        )
    size = task_info.get("size")
    if size is not None and size != arch.size:
        raise UsageError(
            f"the task's frames are {size} px but model pose2im (scale {options.scale}) is {arch.size} px; "
            f"render the task at {arch.size} px (video-shot: --set task.size={arch.size}) "
            f"or build the model at {size} px (--set model.size={size})"
        )
    return int(task_info["in_channels"])


def build(opts: Pose2ImOptions, task_info: dict[str, Any]) -> Pose2ImModel:
    """Pose→image GAN (pix2pixHD generator, multi-scale PatchGAN; LSGAN + feature matching + VGG)."""
    model = Pose2ImModel(opts, check_task(opts.architecture(), opts, task_info))
    if opts.init is not None:
        model.notes["init"] = load_init(model.networks, opts.init, opts.scale)
    return model

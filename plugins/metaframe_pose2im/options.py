"""The ``pose2im`` model's options and named scales (``--set model.KEY=VALUE``).

A *scale* is a named architecture with its native image size; every architecture field can be
overridden one by one (``--set model.scale=paper --set model.n_blocks=6``). Presets ask
:func:`scale_size` for the frame size a scale expects, so the task renders frames of that size.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from metaframe_pose2im.networks import NORMS, PADDINGS

GAN_LOSSES = ("lsgan", "hinge", "vanilla")
GENERATORS = ("pix2pixhd", "unet", "warp")


@dataclass(frozen=True)
class Architecture:
    """Everything that fixes the shapes of the two networks (pix2pixHD's flag in brackets).

    :param size: side of the square frames in pixels.
    :param ngf: generator width [--ngf].
    :param n_downsample: generator downsamplings [--n_downsample_global].
    :param n_blocks: generator residual blocks [--n_blocks_global].
    :param ndf: discriminator width [--ndf].
    :param num_d: discriminator scales [--num_D].
    :param n_layers_d: layers per discriminator [--n_layers_D].
    :param norm: ``instance``, ``batch`` or ``none`` for both networks [--norm].
    :param padding: padding inside the residual blocks.
    :param generator: ``pix2pixhd`` (pix2pixHD's pose-only global generator), ``unet`` (a U-Net that
        also sees the support frames' background plate and nearest frame; see ``unet.py``) or ``warp``
        (a U-Net that refines the per-part warp of the support frames and starts equal to it; see
        ``refine.py``).
    """

    size: int
    ngf: int
    n_downsample: int
    n_blocks: int
    ndf: int
    num_d: int
    n_layers_d: int
    norm: str = "instance"
    padding: str = "reflect"
    generator: str = "pix2pixhd"

    def check(self) -> None:
        """Refuse sizes the generator cannot map back to themselves (ValueError saying what to change)."""
        step = 2**self.n_downsample
        if self.size % step or self.size // step < 2:
            raise ValueError(
                f"size {self.size} must be a multiple of 2**n_downsample = {step} and at least {2 * step}; "
                f"change model.size or model.n_downsample"
            )


SCALES: dict[str, Architecture] = {
    # For tests: seconds on a CPU.
    "tiny": Architecture(size=32, ngf=8, n_downsample=2, n_blocks=2, ndf=8, num_d=2, n_layers_d=2),
    # CPU default. The full-resolution layers dominate the cost, so the width is minimal while the
    # bottleneck (nearly free) keeps pix2pixHD's 4 downsamplings; see docs/reference/pose2im.md.
    "small": Architecture(
        size=128, ngf=16, n_downsample=4, n_blocks=2, ndf=16, num_d=2, n_layers_d=3, generator="warp"
    ),
    # pix2pixHD's global generator as used by MetaPix.
    "paper": Architecture(size=512, ngf=64, n_downsample=4, n_blocks=9, ndf=64, num_d=2, n_layers_d=3),
}


def scale_size(scale: str) -> int:
    """The frame side in pixels that scale ``scale`` is built for (``tiny`` 32, ``small`` 128, ``paper`` 512)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    return SCALES[scale].size


@dataclass
class Pose2ImOptions:
    """Options of the ``pose2im`` model (``--set model.KEY=VALUE``).

    :param scale: named architecture: ``tiny`` (tests), ``small`` (CPU default) or ``paper``.
    :param size: frame side in pixels; default: the scale's. Must equal the task's frame size.
    :param ngf: generator width; default: the scale's.
    :param n_downsample: generator downsamplings; default: the scale's.
    :param n_blocks: generator residual blocks; default: the scale's.
    :param ndf: discriminator width; default: the scale's.
    :param num_d: discriminator scales; default: the scale's.
    :param n_layers_d: layers per discriminator; default: the scale's.
    :param generator: ``pix2pixhd``, ``unet`` (reference-conditioned) or ``warp`` (warp-and-refine);
        default: the scale's.
    :param norm: ``instance`` (pix2pixHD's default), ``batch`` or ``none``.
    :param padding: residual-block padding: ``reflect``, ``replicate`` or ``zero``.
    :param batch_size: frames per inner iteration; K support frames are cycled to fill it (MetaPix: 8).
    :param lr: base learning rate of both inner Adam optimizers.
    :param personal_lr: learning rate when a trained model is personalized on a new person (eval, compare,
        the run's samples, retarget); the meta-training inner loop keeps ``lr``. Default: 3e-3 for the
        warp-and-refine generator given two or more frames, else ``lr``.
    :param beta1: Adam β1 (pix2pixHD: 0.5).
    :param beta2: Adam β2.
    :param gan_loss: ``lsgan`` (pix2pixHD's default), ``hinge`` or ``vanilla`` (pix2pixHD's --no_lsgan).
    :param lambda_gan: weight of the adversarial term of the generator's objective (pix2pixHD: 1; the
        discriminator is trained whatever it is).
    :param lambda_fm: weight of discriminator feature matching (0: off).
    :param lambda_vgg: weight of the VGG19 perceptual loss (0: off); needs ``vgg_weights``.
    :param lambda_l1: weight of an L1 loss to the real frame (0: off).
    :param vgg_weights: a local VGG19 ImageNet weights file (torchvision state dict ``.pth`` or
        ``.safetensors``); without it the perceptual loss is off, and the run says so.
    :param init: a ``.safetensors`` file (or run folder) of ``generator.*``/``discriminator.*`` weights,
        e.g. made by ``metaframe convert pix2pixhd-g``, loaded when the model is built; networks it
        lacks keep their fresh initialization. ``pretrained``: the weights shipped with metaframe for
        the scale (``small``: pretrained on the synthetic dancers' training identities).
    :param sample_rows: frames shown in a sample picture.
    :param bf16: run the forward passes and losses under bfloat16 autocast (for CUDA: about half the
        activation memory, faster on tensor cores; weights, optimizers and scores stay float32).
    """

    scale: str = "small"
    size: int | None = None
    ngf: int | None = None
    n_downsample: int | None = None
    n_blocks: int | None = None
    ndf: int | None = None
    num_d: int | None = None
    n_layers_d: int | None = None
    generator: str | None = None
    norm: str = "instance"
    padding: str = "reflect"
    batch_size: int = 8
    lr: float = 2e-4
    personal_lr: float | None = None
    beta1: float = 0.5
    beta2: float = 0.999
    gan_loss: str = "lsgan"
    lambda_gan: float = 1.0
    lambda_fm: float = 10.0
    lambda_vgg: float = 10.0
    lambda_l1: float = 0.0
    vgg_weights: str | None = None
    init: str | None = None
    sample_rows: int = 4
    bf16: bool = False

    def __post_init__(self) -> None:
        scale_size(self.scale)
        for name, allowed in (("norm", NORMS), ("padding", PADDINGS), ("gan_loss", GAN_LOSSES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        if self.generator is not None and self.generator not in GENERATORS:
            raise ValueError(f"generator must be one of {', '.join(GENERATORS)}, got {self.generator!r}")
        for name in ("size", "ngf", "n_downsample", "n_blocks", "ndf", "num_d", "n_layers_d"):
            value = getattr(self, name)
            if value is not None and value < (0 if name in ("n_downsample", "n_blocks") else 1):
                raise ValueError(f"{name} must be positive, got {value}")
        if self.batch_size < 1 or self.sample_rows < 1:
            raise ValueError("batch_size and sample_rows must be at least 1")
        if self.personal_lr is not None and self.personal_lr <= 0:
            raise ValueError(f"personal_lr must be positive, got {self.personal_lr}")
        if self.lr <= 0 or not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ValueError(
                f"lr must be positive and beta1, beta2 in [0, 1), got {self.lr}, {self.beta1}, {self.beta2}"
            )
        if min(self.lambda_gan, self.lambda_fm, self.lambda_vgg, self.lambda_l1) < 0:
            raise ValueError("loss weights (lambda_*) must be 0 or more")
        self.architecture().check()

    def architecture(self) -> Architecture:
        """The scale's architecture with every option the user set applied over it."""
        fields = [f.name for f in dataclasses.fields(Architecture)]
        overrides = {name: getattr(self, name) for name in fields if getattr(self, name) is not None}
        return dataclasses.replace(SCALES[self.scale], **overrides)

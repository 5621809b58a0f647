"""pix2pixHD's global generator and multi-scale PatchGAN discriminator.

Module and parameter names follow NVIDIA/pix2pixHD (``networks.py``) exactly, so a pix2pixHD state dict
loads with no renaming:

* generator: one ``nn.Sequential`` called ``model`` — ``model.1`` is the 7×7 stem convolution,
  residual blocks are ``model.N.conv_block.{1,5}`` and the 7×7 head is the last convolution;
* discriminator: pix2pixHD's ``getIntermFeat`` layout, ``scale{i}_layer{j}.{k}``. As in pix2pixHD, the
  full-resolution input goes to the *last* scale (``scale{num_d-1}_*``) and each further, average-pooled
  input to the one before it.

Activations are not in-place (unlike pix2pixHD's ``ReLU(True)``): MAML differentiates the generator
twice, and in-place ops on that graph are a source of silent errors. Parameter names are unaffected.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

NORMS = ("instance", "batch", "none")
PADDINGS = ("reflect", "replicate", "zero")
PADDING_LAYERS: dict[str, type[nn.Module]] = {"reflect": nn.ReflectionPad2d, "replicate": nn.ReplicationPad2d}


def to_channels_last(x: Tensor) -> Tensor:
    """``x`` in NHWC memory order: oneDNN's convolutions run 20–25% faster on it on CPU (measured here
    for both networks, forward and backward), and cuDNN prefers it too. Values and autograd are unchanged."""
    return x.contiguous(memory_format=torch.channels_last)


def norm_layer(kind: str, channels: int) -> nn.Module:
    """pix2pixHD's ``get_norm_layer``: instance norm without affine parameters, batch norm, or none."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {kind!r}")


def init_weights(module: nn.Module) -> None:
    """pix2pixHD's ``weights_init``: convolutions N(0, 0.02), batch-norm scales N(1, 0.02) and zero shifts.

    Convolution biases keep PyTorch's default initialization, as in pix2pixHD.
    """
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class ResnetBlock(nn.Module):
    """x + (pad, 3×3 conv, norm, ReLU, pad, 3×3 conv, norm)(x); the convolutions are ``conv_block.1``/``.5``."""

    def __init__(self, dim: int, padding: str, norm: str) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(*self.half(dim, padding, norm, True), *self.half(dim, padding, norm, False))

    @staticmethod
    def half(dim: int, padding: str, norm: str, activate: bool) -> list[nn.Module]:
        """Padding (a module even for ``zero``, so indices match pix2pixHD's reflect layout), conv, norm."""
        pad = PADDING_LAYERS[padding](1) if padding in PADDING_LAYERS else nn.Identity()
        conv = nn.Conv2d(dim, dim, kernel_size=3, padding=1 if padding == "zero" else 0)
        return [pad, conv, norm_layer(norm, dim), *([nn.ReLU()] if activate else [])]

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv_block(x)


class GlobalGenerator(nn.Module):
    """pix2pixHD's global generator: 7×7 stem, strided downsampling, residual blocks, transposed-conv
    upsampling, 7×7 head and tanh, so the output is an image in [-1, 1].

    :param in_channels: input channels (one heatmap per keypoint).
    :param out_channels: output channels (3 for RGB).
    :param ngf: width of the first layer; doubles with every downsampling.
    :param n_downsample: number of stride-2 convolutions (and of upsamplers); the input side must be a
        multiple of ``2**n_downsample``.
    :param n_blocks: residual blocks at the bottleneck.
    :param norm: ``instance`` (pix2pixHD's default), ``batch`` or ``none``.
    :param padding: padding inside the residual blocks: ``reflect`` (default), ``replicate`` or ``zero``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int = 3,
        ngf: int = 64,
        n_downsample: int = 4,
        n_blocks: int = 9,
        norm: str = "instance",
        padding: str = "reflect",
    ) -> None:
        super().__init__()
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {', '.join(PADDINGS)}, got {padding!r}")
        self.n_downsample = n_downsample
        stem = nn.Conv2d(in_channels, ngf, 7)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), stem, norm_layer(norm, ngf), nn.ReLU()]
        for i in range(n_downsample):
            width = ngf * 2**i
            layers += [nn.Conv2d(width, width * 2, 3, stride=2, padding=1), norm_layer(norm, width * 2), nn.ReLU()]
        layers += [ResnetBlock(ngf * 2**n_downsample, padding, norm) for _ in range(n_blocks)]
        for i in range(n_downsample):
            width = ngf * 2 ** (n_downsample - i)
            up = nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1, output_padding=1)
            layers += [up, norm_layer(norm, width // 2), nn.ReLU()]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, out_channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, pose: Tensor) -> Tensor:
        return self.model(to_channels_last(pose))


def patch_layers(in_channels: int, ndf: int, n_layers: int, norm: str) -> list[nn.Sequential]:
    """pix2pixHD's ``NLayerDiscriminator`` as its ``n_layers + 2`` groups (4×4 convs, LeakyReLU 0.2).

    Widths double per layer up to 512; the last two convolutions have stride 1; the last outputs one
    channel of patch logits.
    """
    pad = math.ceil((4 - 1) / 2)
    groups = [nn.Sequential(nn.Conv2d(in_channels, ndf, 4, stride=2, padding=pad), nn.LeakyReLU(0.2))]
    width = ndf
    for n in range(1, n_layers + 1):
        previous, width = width, min(width * 2, 512)
        stride = 2 if n < n_layers else 1
        conv = nn.Conv2d(previous, width, 4, stride=stride, padding=pad)
        groups.append(nn.Sequential(conv, norm_layer(norm, width), nn.LeakyReLU(0.2)))
    groups.append(nn.Sequential(nn.Conv2d(width, 1, 4, stride=1, padding=pad)))
    return groups


class MultiscaleDiscriminator(nn.Module):
    """pix2pixHD's multi-scale PatchGAN: ``num_d`` discriminators on 2× average-pooled copies of the input.

    :meth:`forward` returns, for each scale from the full resolution down, the list of every group's
    output; the last entry of each list is the patch logits, the others are the features that feature
    matching compares.

    :param in_channels: input channels (pose channels + 3: the discriminator is conditional).
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, num_d: int = 2, norm: str = "instance"):
        super().__init__()
        self.num_d, self.n_layers = num_d, n_layers
        for i in range(num_d):
            for j, group in enumerate(patch_layers(in_channels, ndf, n_layers, norm)):
                self.add_module(f"scale{i}_layer{j}", group)
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.apply(init_weights)

    def scale_groups(self, i: int) -> list[nn.Module]:
        """The groups of discriminator ``i`` (pix2pixHD's numbering), in order."""
        return [getattr(self, f"scale{i}_layer{j}") for j in range(self.n_layers + 2)]

    def forward(self, x: Tensor) -> list[list[Tensor]]:
        x = to_channels_last(x)
        results = []
        for i in range(self.num_d):
            features, h = [], x
            for group in self.scale_groups(self.num_d - 1 - i):
                h = group(h)
                features.append(h)
            results.append(features)
            if i != self.num_d - 1:
                x = self.downsample(x)
        return results

"""The VGG19 perceptual loss of pix2pixHD, with ImageNet weights read from a local file.

The network is torchvision's ``vgg19().features`` up to ``relu5_1`` (indices 0–29), so a torchvision
state dict (``features.N.weight`` …; ``classifier.*`` and deeper layers are ignored) loads as is. As in
pix2pixHD, images in [-1, 1] go in without ImageNet normalization, and the relu1_1, relu2_1, relu3_1,
relu4_1 and relu5_1 features are compared with L1, weighted 1/32, 1/16, 1/8, 1/4 and 1.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from metaframe_pose2im.losses import batch_mean
from metaframe_pose2im.weights import load_network, read_state_dict

# torchvision's VGG19 configuration "E"; "M" is a 2×2 max-pool.
VGG19_LAYERS = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512)
SLICE_ENDS = (2, 7, 12, 21, 30)  # after relu1_1, relu2_1, relu3_1, relu4_1, relu5_1
LAYER_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)


class VGG19Features(nn.Module):
    """VGG19's convolutional trunk up to relu5_1, returning the five features pix2pixHD compares."""

    def __init__(self) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for item in VGG19_LAYERS:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(channels, int(item), 3, padding=1), nn.ReLU()]
                channels = int(item)
        self.features = nn.Sequential(*layers[: SLICE_ENDS[-1]])
        self.requires_grad_(False)

    def forward(self, image: Tensor) -> list[Tensor]:
        outputs, start, h = [], 0, image
        for end in SLICE_ENDS:
            for layer in self.features[start:end]:
                h = layer(h)
            outputs.append(h)
            start = end
        return outputs


def load_vgg19(path: str | Path) -> VGG19Features:
    """VGG19 with the weights in ``path`` (a torchvision ``vgg19`` state dict, ``.pth`` or ``.safetensors``)."""
    state = read_state_dict(path)
    wanted = {key: value for key, value in state.items() if is_trunk_key(key)}
    vgg = VGG19Features()
    hint = "model.vgg_weights must be torchvision's vgg19 ImageNet state dict (keys features.N.weight/bias)"
    load_network(vgg, wanted or state, str(path), hint)
    return vgg.eval()


def is_trunk_key(key: str) -> bool:
    """Whether ``key`` is one of the ``features.N`` entries up to relu5_1 that the loss uses."""
    prefix, _, rest = key.partition(".")
    index = rest.partition(".")[0]
    return prefix == "features" and index.isdigit() and int(index) < SLICE_ENDS[-1]


class PerceptualLoss(nn.Module):
    """pix2pixHD's ``VGGLoss``: weighted L1 between VGG19 features of the generated and real frames."""

    def __init__(self, vgg: VGG19Features) -> None:
        super().__init__()
        self.vgg = vgg

    def forward(self, fake: Tensor, real: Tensor, weights: Tensor | None = None) -> Tensor:
        with torch.no_grad():  # the real frame is only a target
            targets = self.vgg(real)
        total = fake.new_zeros(())
        for weight, feature, target in zip(LAYER_WEIGHTS, self.vgg(fake), targets, strict=True):
            total = total + weight * batch_mean((feature - target).abs(), weights)
        return total

"""Reading NVIDIA/pix2pixHD checkpoints (``*_net_G.pth``, ``*_net_D.pth``) into pose2im's layout.

Our networks keep pix2pixHD's module names, so the mapping is:

* global generator (``--netG global``): identity, ``model.N.*`` → ``generator.model.N.*``;
* multi-scale discriminator trained with feature matching (the default): identity,
  ``scale{i}_layer{j}.{k}.*`` → ``discriminator.scale{i}_layer{j}.{k}.*``;
* discriminator trained with ``--no_ganFeat_loss``: its flat ``layer{i}.{k}.*`` becomes the grouped
  ``scale{i}_layer{j}.{k'}.*`` (the same layers, grouped as feature matching needs them);
* a ``module.`` prefix (a checkpoint saved from ``DataParallel``) is dropped.

The architecture (pose channels, widths, depths, norm) is read off the tensor shapes, then every tensor
is checked against a network built with it, so a file that is not what it claims fails naming the
tensor. Files are read with ``torch.load(weights_only=True)``: nothing is unpickled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from metaframe.api import UsageError, check_tensors, write_weights
from metaframe_pose2im.networks import GlobalGenerator, MultiscaleDiscriminator
from metaframe_pose2im.weights import read_state_dict

FORMAT = "metaframe-pose2im/1"
BLOCK_KEY = re.compile(r"^model\.(\d+)\.conv_block\.1\.weight$")
CONV_KEY = re.compile(r"^model\.(\d+)\.weight$")
GROUPED_KEY = re.compile(r"^scale(\d+)_layer(\d+)\.(\d+)\.(.+)$")
FLAT_KEY = re.compile(r"^layer(\d+)\.(\d+)\.(.+)$")


@dataclass(frozen=True)
class Converted:
    """Tensors in our layout (keys prefixed with the network name) and the settings they need."""

    state: dict[str, Tensor]
    settings: dict[str, str]
    in_channels: int


def without_module_prefix(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Drop the ``module.`` prefix that ``DataParallel`` adds to every key."""
    if state and all(key.startswith("module.") for key in state):
        return {key[len("module.") :]: value for key, value in state.items()}
    return state


def norm_of(state: dict[str, Tensor], key: str) -> str:
    """``batch`` if the norm layer at ``key`` has running statistics, else ``instance`` (no tensors)."""
    return "batch" if f"{key}.running_mean" in state else "instance"


def convert_generator(state: dict[str, Tensor], source: str) -> Converted:
    """A pix2pixHD global generator state dict in our layout; the architecture is read from its shapes."""
    state = without_module_prefix(state)
    if any(key.startswith("model1_") for key in state):
        raise UsageError(f"{source} is a pix2pixHD local enhancer (--netG local); only --netG global is supported")
    if "model.1.weight" not in state:
        raise UsageError(f"{source} is not a pix2pixHD global generator: it has no tensor 'model.1.weight'")
    ngf, in_channels = state["model.1.weight"].shape[:2]
    n_blocks = sum(bool(BLOCK_KEY.match(key)) for key in state)
    convs = [key for key in state if CONV_KEY.match(key) and state[key].dim() == 4]
    n_downsample = (len(convs) - 2) // 2
    norm = norm_of(state, "model.2")
    with torch.device("meta"):
        expected = GlobalGenerator(in_channels, 3, ngf, n_downsample, n_blocks, norm).state_dict()
    hint = f"expected a pix2pixHD global generator with 3 output channels (ngf={ngf}, {n_downsample} downsamplings)"
    check_tensors(expected, state, source, hint)
    settings = {"ngf": str(ngf), "n_downsample": str(n_downsample), "n_blocks": str(n_blocks), "norm": norm}
    return Converted({f"generator.{key}": value for key, value in state.items()}, settings, int(in_channels))


def grouped_key(flat_index: int, n_layers: int) -> tuple[int, int]:
    """(group, index in group) of layer ``flat_index`` of pix2pixHD's flat ``NLayerDiscriminator``.

    Groups are [conv, LeakyReLU], then n_layers × [conv, norm, LeakyReLU], then [conv].
    """
    if flat_index < 2:
        return 0, flat_index
    group, offset = divmod(flat_index - 2, 3)
    return (group + 1, offset) if group < n_layers else (n_layers + 1, flat_index - 2 - 3 * n_layers)


def regroup_discriminator(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """A ``--no_ganFeat_loss`` discriminator's flat keys as the grouped keys of the default layout."""
    if not any(FLAT_KEY.match(key) for key in state):
        return state
    convs = [key for key in state if key.startswith("layer0.") and key.endswith(".weight") and state[key].dim() == 4]
    n_layers = len(convs) - 2  # the first and last convolutions have no norm
    regrouped = {}
    for key, value in state.items():
        match = FLAT_KEY.match(key)
        if not match:
            regrouped[key] = value
            continue
        group, index = grouped_key(int(match[2]), n_layers)
        regrouped[f"scale{match[1]}_layer{group}.{index}.{match[3]}"] = value
    return regrouped


def convert_discriminator(state: dict[str, Tensor], source: str) -> Converted:
    """A pix2pixHD multi-scale discriminator state dict in our layout; architecture read from its shapes."""
    state = regroup_discriminator(without_module_prefix(state))
    if "scale0_layer0.0.weight" not in state:
        raise UsageError(f"{source} is not a pix2pixHD multi-scale discriminator: no tensor 'scale0_layer0.0.weight'")
    ndf, in_channels = state["scale0_layer0.0.weight"].shape[:2]
    matches = [GROUPED_KEY.match(key) for key in state]
    num_d = 1 + max(int(m[1]) for m in matches if m)
    n_layers = max(int(m[2]) for m in matches if m) - 1
    norm = norm_of(state, "scale0_layer1.1")
    with torch.device("meta"):
        expected = MultiscaleDiscriminator(in_channels, ndf, n_layers, num_d, norm).state_dict()
    hint = f"expected a pix2pixHD discriminator (num_D={num_d}, n_layers_D={n_layers})"
    check_tensors(expected, state, source, hint)
    settings = {"ndf": str(ndf), "num_d": str(num_d), "n_layers_d": str(n_layers), "norm": norm}
    return Converted({f"discriminator.{key}": value for key, value in state.items()}, settings, int(in_channels) - 3)


def merge(generator: Converted | None, discriminator: Converted | None) -> Converted:
    """One file's worth of tensors from a generator and/or a discriminator that belong together."""
    parts = [part for part in (generator, discriminator) if part is not None]
    channels = {part.in_channels for part in parts}
    if len(channels) > 1:
        raise UsageError(
            f"the generator takes {generator.in_channels if generator else '?'} pose channels but the discriminator "
            f"takes {discriminator.in_channels if discriminator else '?'} (+3 RGB): they are not from the same model"
        )
    if generator and discriminator and generator.settings["norm"] != discriminator.settings["norm"]:
        raise UsageError("the generator and the discriminator use different norms; they are not from the same model")
    state = {key: value for part in parts for key, value in part.state.items()}
    settings = {key: value for part in parts for key, value in part.settings.items()}
    return Converted(state, settings, channels.pop())


def settings_text(converted: Converted) -> str:
    """The ``--set`` options a model needs to load ``converted`` (``--set model.ngf=64 --set ...``: one
    ``--set`` takes one assignment)."""
    return " ".join(f"--set model.{key}={value}" for key, value in converted.settings.items())


def convert_files(generator: Path | None, discriminator: Path | None, out: Path) -> Converted:
    """Convert pix2pixHD ``*_net_G.pth`` and/or ``*_net_D.pth`` files into one pose2im ``.safetensors``."""
    if out.suffix != ".safetensors":
        raise UsageError(f"--out {out} must end in .safetensors")
    g = convert_generator(read_state_dict(generator), str(generator)) if generator else None
    d = convert_discriminator(read_state_dict(discriminator), str(discriminator)) if discriminator else None
    converted = merge(g, d)
    metadata = {
        "format": FORMAT,
        "source": "pix2pixHD",
        "settings": settings_text(converted),
        "in_channels": str(converted.in_channels),
    }
    write_weights(out.expanduser(), {key: value.contiguous() for key, value in converted.state.items()}, metadata)
    return converted

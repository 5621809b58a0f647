"""pix2pixHD's checkpoint layouts, derived in the tests from the architecture description alone.

No network is built here: the layers of pix2pixHD's global generator and multi-scale PatchGAN (as
described in docs/reference/pose2im.md) are listed as plain tuples, and the state-dict keys, tensor
shapes and parameter counts are computed from that list. The plugin's networks and converter are then
checked against these independent expectations.

A layer is ``(kind, *sizes)``:

* ``("conv", c_in, c_out, k)``: ``nn.Conv2d``, weight ``(c_out, c_in, k, k)`` and bias;
* ``("up", c_in, c_out, k)``: ``nn.ConvTranspose2d``, weight ``(c_in, c_out, k, k)`` and bias;
* ``("norm", c)``: no tensors for instance norm (no affine), five for batch norm;
* ``("block", c)``: a residual block, convolutions at ``conv_block.1`` and ``conv_block.5``, norms at
  ``conv_block.2`` and ``conv_block.6``;
* ``("pad",)``, ``("act",)``: padding and activations, no tensors but an index.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

Layer = tuple
Shape = tuple[int, ...]


def conv_count(c_in: int, c_out: int, k: int) -> int:
    """Weights and biases of a k×k (transposed or not) convolution from c_in to c_out channels."""
    return c_in * c_out * k * k + c_out


def generator_count(in_channels: int, ngf: int, n_down: int, n_blocks: int, out: int = 3) -> int:
    """pix2pixHD's global generator parameter count with instance norm (which has no parameters)."""
    stem, head = conv_count(in_channels, ngf, 7), conv_count(ngf, out, 7)
    downsamplers = sum(conv_count(ngf * 2**i, ngf * 2 ** (i + 1), 3) for i in range(n_down))
    bottleneck = ngf * 2**n_down
    blocks = n_blocks * 2 * conv_count(bottleneck, bottleneck, 3)
    upsamplers = sum(conv_count(bottleneck // 2**i, bottleneck // 2 ** (i + 1), 3) for i in range(n_down))
    return stem + downsamplers + blocks + upsamplers + head


def discriminator_widths(ndf: int, n_layers: int) -> list[int]:
    """Output widths of one PatchGAN's convolutions: ndf, n_layers doublings capped at 512, then 1."""
    widths = [ndf]
    for _ in range(n_layers):
        widths.append(min(widths[-1] * 2, 512))
    return [*widths, 1]


def discriminator_count(in_channels: int, ndf: int, n_layers: int, num_d: int) -> int:
    """pix2pixHD's multi-scale discriminator parameter count with instance norm: num_d PatchGANs of
    4×4 convolutions."""
    widths = discriminator_widths(ndf, n_layers)
    inputs = [in_channels, *widths[:-1]]
    return num_d * sum(conv_count(c_in, c_out, 4) for c_in, c_out in zip(inputs, widths, strict=True))


def generator_layers(in_channels: int, ngf: int, n_down: int, n_blocks: int, out: int = 3) -> list[Layer]:
    """The entries of pix2pixHD's generator ``model`` Sequential, in order (index = position)."""
    layers: list[Layer] = [("pad",), ("conv", in_channels, ngf, 7), ("norm", ngf), ("act",)]
    for i in range(n_down):
        width = ngf * 2**i
        layers += [("conv", width, width * 2, 3), ("norm", width * 2), ("act",)]
    layers += [("block", ngf * 2**n_down)] * n_blocks
    for i in range(n_down):
        width = ngf * 2 ** (n_down - i)
        layers += [("up", width, width // 2, 3), ("norm", width // 2), ("act",)]
    return [*layers, ("pad",), ("conv", ngf, out, 7), ("act",)]


def discriminator_groups(in_channels: int, ndf: int, n_layers: int) -> list[list[Layer]]:
    """One PatchGAN as its groups (pix2pixHD's getIntermFeat split): [conv, act], n_layers × [conv, norm,
    act], [conv]."""
    widths = discriminator_widths(ndf, n_layers)
    groups = [[("conv", in_channels, ndf, 4), ("act",)]]
    for previous, width in zip(widths[:n_layers], widths[1 : n_layers + 1], strict=True):
        groups.append([("conv", previous, width, 4), ("norm", width), ("act",)])
    return [*groups, [("conv", widths[-2], 1, 4)]]


def tensors(layer: Layer, norm: str) -> Iterator[tuple[str, Shape]]:
    """(name within the layer, shape) of each tensor a layer holds, in state-dict order."""
    kind = layer[0]
    if kind == "conv":
        _, c_in, c_out, k = layer
        yield from (("weight", (c_out, c_in, k, k)), ("bias", (c_out,)))
    elif kind == "up":
        _, c_in, c_out, k = layer
        yield from (("weight", (c_in, c_out, k, k)), ("bias", (c_out,)))
    elif kind == "norm" and norm == "batch":
        for name in ("weight", "bias", "running_mean", "running_var"):
            yield name, (layer[1],)
        yield "num_batches_tracked", ()
    elif kind == "block":
        width = layer[1]
        for conv, after in ((1, 2), (5, 6)):
            for name, shape in tensors(("conv", width, width, 3), norm):
                yield f"conv_block.{conv}.{name}", shape
            for name, shape in tensors(("norm", width), norm):
                yield f"conv_block.{after}.{name}", shape


def generator_keys(
    in_channels: int, ngf: int, n_down: int, n_blocks: int, norm: str = "instance"
) -> list[tuple[str, Shape]]:
    """pix2pixHD's global generator state dict as (key, shape) pairs: ``model.{index}.{tensor}``."""
    layers = generator_layers(in_channels, ngf, n_down, n_blocks)
    return [(f"model.{i}.{name}", shape) for i, layer in enumerate(layers) for name, shape in tensors(layer, norm)]


def discriminator_keys(
    in_channels: int, ndf: int, n_layers: int, num_d: int, norm: str = "instance", grouped: bool = True
) -> list[tuple[str, Shape]]:
    """pix2pixHD's multi-scale discriminator state dict as (key, shape) pairs.

    ``grouped`` (trained with feature matching): ``scale{i}_layer{j}.{k}.{tensor}``, k the index in group j;
    otherwise (``--no_ganFeat_loss``) one flat Sequential per scale: ``layer{i}.{k}.{tensor}``. Both list the
    same tensors in the same order, so zipping the two lists gives the regrouping.
    """
    keys = []
    for i in range(num_d):
        flat = 0
        for j, group in enumerate(discriminator_groups(in_channels, ndf, n_layers)):
            for k, layer in enumerate(group):
                prefix = f"scale{i}_layer{j}.{k}" if grouped else f"layer{i}.{flat}"
                keys += [(f"{prefix}.{name}", shape) for name, shape in tensors(layer, norm)]
                flat += 1
    return keys


def random_state(keys: list[tuple[str, Shape]], seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict with the given keys: random floats, and step counts (``num_batches_tracked``) as int64."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in keys:
        if key.endswith("num_batches_tracked"):
            state[key] = torch.randint(0, 1000, shape, generator=generator)
        else:
            state[key] = torch.randn(shape, generator=generator)
    return state


def shapes(state: dict[str, torch.Tensor]) -> list[tuple[str, Shape]]:
    """A state dict as (key, shape) pairs, in its order."""
    return [(key, tuple(value.shape)) for key, value in state.items()]

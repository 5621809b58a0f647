"""``metaframe convert``: turn pix2pixHD checkpoints into pose2im weights."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from metaframe.api import UsageError, console
from metaframe_pose2im.pix2pixhd import convert_files, settings_text

KINDS = ("pix2pixhd-g", "pix2pixhd-d")
KIND_HELP = "What PATH holds: pix2pixhd-g (a *_net_G.pth) or pix2pixhd-d (a *_net_D.pth)."
PATH_HELP = "The pix2pixHD state dict: .pth (read with torch.load(weights_only=True)) or .safetensors."
OUT_HELP = "The .safetensors file to write (replaced if it exists)."
D_HELP = "With pix2pixhd-g: also convert this *_net_D.pth into the same file."


def convert(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    path: Annotated[Path, typer.Argument(help=PATH_HELP, dir_okay=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help=OUT_HELP, dir_okay=False)],
    discriminator: Annotated[Path | None, typer.Option("--discriminator", "-d", help=D_HELP, dir_okay=False)] = None,
) -> None:
    """Convert a pix2pixHD checkpoint into pose2im weights, to start from with --set model.init=OUT.

    pix2pixhd-g reads a global generator (--netG global), e.g. checkpoints/NAME/latest_net_G.pth, and
    with --discriminator also its latest_net_D.pth; pix2pixhd-d reads a discriminator alone. Files are
    read with torch.load(weights_only=True) -- never unpickled -- or as .safetensors.

    The architecture (pose channels, ngf, downsamplings, residual blocks, norm; ndf, num_D, n_layers_D)
    is read from the tensor shapes and every tensor is checked; a mismatch names the tensor. OUT holds
    generator.* and/or discriminator.* tensors and the --set options the model needs to load them,
    which this command prints. The task must give as many pose channels as the generator takes.
    """
    if kind not in KINDS:
        raise UsageError(f"unknown conversion {kind!r}; choose {' or '.join(KINDS)}")
    if discriminator is not None and kind != "pix2pixhd-g":
        raise UsageError("--discriminator goes with pix2pixhd-g; for a discriminator alone use pix2pixhd-d PATH")
    generator_path = path if kind == "pix2pixhd-g" else None
    discriminator_path = path if kind == "pix2pixhd-d" else discriminator
    converted = convert_files(generator_path, discriminator_path, out)
    count = sum(value.numel() for value in converted.state.values() if value.is_floating_point())
    networks = sorted({key.partition(".")[0] for key in converted.state})
    summary = f"{' and '.join(networks)}, {count / 1e6:.2f}M values, {converted.in_channels} pose channels"
    console.print(f"wrote {out}: {summary}")
    console.print(f"use it with: --set model.init={out} {settings_text(converted)}", markup=False)

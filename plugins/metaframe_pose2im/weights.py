"""Reading and writing weight files safely: safetensors, or ``torch.load(weights_only=True)``; never pickle.

Shared by the VGG19 loader, the ``init`` option and ``metaframe convert``. Every mismatch names the
tensor, so a user can tell a wrong file from a wrong ``--set``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import Tensor, nn

from metaframe.api import UsageError, check_tensors, weights_metadata


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """The tensors in ``path``: ``.safetensors``, or a PyTorch state dict read with ``weights_only=True``.

    A missing file, a pickled model object or anything but a flat name → tensor mapping is a UsageError.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise UsageError(f"weights file {path} does not exist; give the path of a .pth or .safetensors file")
    if path.suffix == ".safetensors":
        try:
            return load_file(path, device="cpu")
        except Exception as error:  # noqa: BLE001 - any parse failure means the file is not usable
            raise UsageError(f"{path} is not a readable safetensors file ({error})") from None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - weights_only refuses pickled objects with varied errors
        raise UsageError(
            f"{path} cannot be read as a plain state dict with torch.load(weights_only=True) "
            f"({load_failure(error)}); if it holds a whole pickled model, re-save its state_dict() where you "
            f"trust the file, or give a .safetensors file"
        ) from None
    return flat_tensors(state, path)


def load_failure(error: Exception) -> str:
    """The useful part of ``torch.load``'s refusal (its advice to drop ``weights_only`` is not for us)."""
    text = str(error)
    marker = "WeightsUnpickler error:"
    if marker in text:
        detail = text.split(marker, 1)[1].strip().splitlines()[0]
        return detail.split(". ")[0].rstrip(".")
    lines = text.strip().splitlines()
    return lines[0] if lines else type(error).__name__


def flat_tensors(state: object, path: Path) -> dict[str, Tensor]:
    """Check that ``state`` maps names to tensors (unwrapping a ``{"state_dict": ...}`` wrapper)."""
    if isinstance(state, Mapping) and "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        raise UsageError(f"{path} does not hold a state dict (a mapping of names to tensors)")
    return {str(key): value for key, value in state.items()}


@torch.no_grad()
def load_network(network: nn.Module, state: Mapping[str, Tensor], source: str, hint: str) -> None:
    """Copy ``state`` into ``network`` after checking every name and shape (dtype converted as needed)."""
    expected = network.state_dict()
    check_tensors(expected, state, source, hint)
    for key, value in expected.items():
        value.copy_(state[key])


def init_hint(path: Path) -> str:
    """What to change when ``path`` does not fit the model: the file's own settings when it records them."""
    metadata = weights_metadata(path)
    if "settings" not in metadata:
        return "check model.ngf, n_downsample, n_blocks, ndf, num_d, n_layers_d, norm and the task's pose channels"
    channels = f" with a task of {metadata['in_channels']} pose channels" if "in_channels" in metadata else ""
    return f"build the model to match: {metadata['settings']}{channels}"


PRETRAINED = "pretrained"
PRETRAINED_DIR = Path(__file__).parent / "pretrained"
REGENERATE = "regenerate it with `python tools/make_pretrained.py` (docs/reference/pretrained.md)"


def pretrained_file(scale: str) -> Path:
    """The weights this package ships for ``scale``; a scale without them is a UsageError saying so."""
    path = PRETRAINED_DIR / f"{scale}.safetensors"
    if not path.is_file():
        shipped = sorted(p.stem for p in PRETRAINED_DIR.glob("*.safetensors"))
        raise UsageError(
            f"model.init=pretrained: no shipped weights for scale {scale!r} ({path} is missing; shipped: "
            f"{', '.join(shipped) or 'none'}); start from fresh weights with --set model.init=none, or {REGENERATE}"
        )
    return path


def load_init(networks: nn.ModuleDict, path: str | Path, scale: str | None = None) -> str:
    """Load ``generator.*`` / ``discriminator.*`` tensors from ``path`` (a file, a run folder, or
    ``pretrained``: the weights shipped for ``scale``) into ``networks``; return what was loaded.
    Networks absent from the file keep their fresh initialization."""
    shipped = str(path) == PRETRAINED
    path = pretrained_file(scale or "") if shipped else Path(path).expanduser()
    if path.is_dir():
        path = path / "model.safetensors"
    state = read_state_dict(path)
    names = sorted({key.partition(".")[0] for key in state})
    unknown = [name for name in names if name not in networks]
    if unknown:
        raise UsageError(
            f"model.init: {path} has tensors for network {unknown[0]!r} (keys must start with "
            f"{' or '.join(f'{n}.' for n in networks)}); convert pix2pixHD files with `metaframe convert`"
        )
    hint = f"the shipped weights are for scale {scale!r} as first built; {REGENERATE}" if shipped else init_hint(path)
    for name in names:
        own = {key.partition(".")[2]: value for key, value in state.items() if key.startswith(f"{name}.")}
        load_network(networks[name], own, f"{path} ({name})", hint)
    return f"{', '.join(names)} loaded from {path}"

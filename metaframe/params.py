"""Pure parameter maths shared by the outer algorithms.

A *state* here is a flat ``{qualified_name: tensor}`` dict holding the parameters and floating-point
buffers of some networks (integer buffers such as BatchNorm's step counter are never interpolated).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import Tensor, nn

State = dict[str, Tensor]


def snapshot(networks: Mapping[str, nn.Module], names: Iterable[str] | None = None) -> State:
    """Detached copies of the parameters and buffers of ``networks`` (or only those in ``names``)."""
    selected = list(networks) if names is None else list(names)
    return {
        f"{name}.{key}": value.detach().clone()
        for name in selected
        for key, value in networks[name].state_dict().items()
    }


@torch.no_grad()
def restore(networks: Mapping[str, nn.Module], state: State) -> None:
    """Copy ``state`` into the networks in place (keys are ``network.param``)."""
    for name, network in networks.items():
        prefix = f"{name}."
        own = {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}
        if own:
            current = network.state_dict()
            for key, value in own.items():
                current[key].copy_(value)


def is_interpolated(value: Tensor) -> bool:
    """Only floating-point tensors are interpolated or averaged; counters are carried along unchanged."""
    return value.is_floating_point()


@torch.no_grad()
def average(states: list[State]) -> State:
    """The element-wise mean of ``states`` (floating-point entries); other entries come from the first."""
    first = states[0]
    if len(states) == 1:
        return {key: value.clone() for key, value in first.items()}
    return {
        key: torch.stack([state[key] for state in states]).mean(0) if is_interpolated(value) else value.clone()
        for key, value in first.items()
    }


@torch.no_grad()
def interpolate(start: State, target: State, epsilon: float) -> State:
    """``start + epsilon * (target - start)`` for floating-point entries (Reptile's update)."""
    return {
        key: torch.lerp(value, target[key], epsilon) if is_interpolated(value) else value.clone()
        for key, value in start.items()
    }


def named_parameters(networks: Mapping[str, nn.Module], names: Iterable[str]) -> dict[str, nn.Parameter]:
    """Qualified name → parameter, for the networks in ``names``."""
    return {f"{name}.{key}": param for name in names for key, param in networks[name].named_parameters()}


def strip_prefix(params: Mapping[str, Tensor], network: str) -> dict[str, Tensor]:
    """The entries of ``params`` that belong to ``network``, with the ``network.`` prefix removed."""
    prefix = f"{network}."
    return {key[len(prefix) :]: value for key, value in params.items() if key.startswith(prefix)}

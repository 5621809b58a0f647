"""Pure parameter maths shared by the outer algorithms.

A *state* here is a flat ``{qualified_name: tensor}`` dict holding the parameters and floating-point
buffers of some networks (integer buffers such as BatchNorm's step counter are never interpolated).
"""

from __future__ import annotations

import math
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
    """``start + epsilon * (target - start)`` for floating-point entries: a step of size ``epsilon``
    from ``start`` towards ``target`` (an outer update towards adapted weights)."""
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


@torch.no_grad()
def accumulate(total: State | None, state: State) -> State:
    """Add the floating-point entries of ``state`` into ``total`` (a fresh copy when ``total`` is None)."""
    if total is None:
        return {key: value.clone() for key, value in state.items()}
    for key, value in state.items():
        if is_interpolated(value):
            total[key].add_(value)
    return total


@torch.no_grad()
def scale(state: State, factor: float) -> State:
    """Multiply the floating-point entries of ``state`` by ``factor`` in place; returns ``state``."""
    for value in state.values():
        if is_interpolated(value):
            value.mul_(factor)
    return state


def select(state: State, keys: Iterable[str]) -> State:
    """The entries of ``state`` whose keys are in ``keys``."""
    wanted = set(keys)
    return {key: value for key, value in state.items() if key in wanted}


class DifferentiableSGD:
    """Plain SGD as a pure function of tensors, so a loss after it can be differentiated through it."""

    def __init__(self, lr: float) -> None:
        self.lr = lr

    def init(self, params: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Optimizer state for ``params`` (SGD has none)."""
        return {}

    def update(
        self, params: Mapping[str, Tensor], grads: Mapping[str, Tensor], state: dict[str, Tensor], lr_factor: float
    ) -> dict[str, Tensor]:
        """New parameters ``p - lr * lr_factor * g`` (no in-place change: the graph stays intact)."""
        lr = self.lr * lr_factor
        return {key: p - lr * grads[key] for key, p in params.items()}


class DifferentiableAdam:
    """Adam as a pure function of tensors, numerically equal to :class:`torch.optim.Adam`.

    ``sqrt`` of a zero second moment has an infinite derivative; where the moment is exactly zero the
    square root is taken of a constant instead, so its (zero) gradient never becomes NaN.
    """

    def __init__(self, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.lr, self.betas, self.eps = lr, betas, eps

    def init(self, params: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Zero first and second moments and a step counter."""
        state: dict[str, Tensor] = {"step": torch.zeros(())}
        for key, p in params.items():
            state[f"m.{key}"] = torch.zeros_like(p)
            state[f"v.{key}"] = torch.zeros_like(p)
        return state

    def update(
        self, params: Mapping[str, Tensor], grads: Mapping[str, Tensor], state: dict[str, Tensor], lr_factor: float
    ) -> dict[str, Tensor]:
        """One Adam step; ``state`` is updated in place (its tensors are replaced, never mutated)."""
        beta1, beta2 = self.betas
        state["step"] = state["step"] + 1
        step = float(state["step"])
        bias1, bias2 = 1 - beta1**step, 1 - beta2**step
        new = {}
        for key, p in params.items():
            g = grads[key]
            # the fused kernels torch.optim.Adam uses: fewer tensors saved for the backward pass
            m = state[f"m.{key}"] = torch.lerp(state[f"m.{key}"], g, 1 - beta1)
            v = state[f"v.{key}"] = torch.addcmul(beta2 * state[f"v.{key}"], g, g, value=1 - beta2)
            positive = v > 0
            root = torch.where(positive, v, 1.0).sqrt() * positive
            denom = root / math.sqrt(bias2) + self.eps
            new[key] = torch.addcdiv(p, m, denom, value=-self.lr * lr_factor / bias1)
        return new

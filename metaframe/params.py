"""Pure parameter maths shared by the outer algorithms.

A *state* here is a flat ``{qualified_name: tensor}`` dict holding the parameters and floating-point
buffers of some networks (integer buffers such as BatchNorm's step counter are never interpolated).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor, nn

State = dict[str, Tensor]
Networks = Mapping[str, nn.Module] | nn.ModuleDict
"""Named networks: a model's ``networks`` (an ``nn.ModuleDict``, which typing does not call a Mapping) or a dict."""


def snapshot(networks: Networks, names: Iterable[str] | None = None) -> State:
    """Detached copies of the parameters and buffers of ``networks`` (or only those in ``names``)."""
    selected = list(networks) if names is None else list(names)
    return {
        f"{name}.{key}": value.detach().clone()
        for name in selected
        for key, value in networks[name].state_dict().items()
    }


@torch.no_grad()
def restore(networks: Networks, state: State) -> None:
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


def named_parameters(networks: Networks, names: Iterable[str]) -> dict[str, nn.Parameter]:
    """Qualified name → parameter, for the networks in ``names``."""
    return {f"{name}.{key}": param for name in names for key, param in networks[name].named_parameters()}


def strip_prefix(params: Mapping[str, Tensor], network: str) -> dict[str, Tensor]:
    """The entries of ``params`` that belong to ``network``, with the ``network.`` prefix removed."""
    prefix = f"{network}."
    return {key[len(prefix) :]: value for key, value in params.items() if key.startswith(prefix)}


def of_network(params: Mapping[str, Tensor], network: str) -> dict[str, Tensor]:
    """The entries of ``params`` that belong to ``network``, keys unchanged (``network.param``)."""
    prefix = f"{network}."
    return {key: value for key, value in params.items() if key.startswith(prefix)}


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


class AdamDivide(torch.autograd.Function):
    """Adam's parameter update ``p + a * m / (sqrt(v) / s + eps)``, computed as ``torch.optim.Adam`` does.

    Its backward pass recomputes the denominator from ``v`` rather than keeping it and ``sqrt(v)``: per
    step and parameter, the second-order graph then holds nothing beyond ``m`` and ``v``, which it keeps anyway.
    ``sqrt`` has an infinite derivative at 0; where ``v`` is exactly 0 the gradient to ``v`` is 0, never NaN.
    The backward pass is made of differentiable operations, so it can itself be differentiated.
    """

    @staticmethod
    def forward(ctx: Any, p: Tensor, m: Tensor, v: Tensor, a: float, s: float, eps: float) -> Tensor:
        ctx.save_for_backward(m, v)
        ctx.constants = a, s, eps
        return torch.addcdiv(p, m, v.sqrt() / s + eps, value=a)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        m, v = ctx.saved_tensors
        a, s, eps = ctx.constants
        root = v.sqrt()
        denom = root / s + eps
        grad_m = grad * a / denom
        positive = v > 0
        grad_v = torch.where(positive, -grad_m * m / (denom * 2 * s * torch.where(positive, root, 1.0)), 0.0)
        return grad, grad_m, grad_v, None, None, None


class DifferentiableAdam:
    """Adam as a pure function of tensors, numerically equal to :class:`torch.optim.Adam`."""

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
        state["step"] = state["step"].detach() + 1  # a counter: never part of a graph
        step = float(state["step"])
        bias1, bias2 = 1 - beta1**step, 1 - beta2**step
        new = {}
        for key, p in params.items():
            g = grads[key]
            # the fused kernels torch.optim.Adam uses: fewer tensors saved for the backward pass
            m = state[f"m.{key}"] = torch.lerp(state[f"m.{key}"], g, 1 - beta1)
            v = state[f"v.{key}"] = torch.addcmul(beta2 * state[f"v.{key}"], g, g, value=1 - beta2)
            new[key] = AdamDivide.apply(p, m, v, -self.lr * lr_factor / bias1, math.sqrt(bias2), self.eps)
        return new


OptimizerState = dict[str, Tensor]
"""A differentiable optimizer's state (Adam's moments and step counter), keyed like its parameters."""


@dataclass(frozen=True)
class OptimizerSpec:
    """Which optimizer one network's inner steps use, with its hyper-parameters.

    A model that declares it (``TaskModel.inner_optimizer_specs``) builds its ``torch.optim`` optimizers
    from it (:meth:`build`), and a second-order algorithm steps the pure-function twin (:meth:`rule`), so the
    two inner loops cannot drift apart.

    :param kind: ``sgd`` (plain, no momentum) or ``adam``.
    :param lr: the base learning rate (the inner schedule scales it).
    :param betas: Adam's β1, β2.
    :param eps: Adam's ε.
    """

    kind: str
    lr: float
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if self.kind not in ("sgd", "adam"):
            raise ValueError(f"an inner optimizer is sgd or adam, got {self.kind!r}")

    def build(self, params: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
        """The ``torch.optim`` optimizer :func:`metaframe.loop.adapt` steps."""
        if self.kind == "sgd":
            return torch.optim.SGD(params, lr=self.lr)
        return torch.optim.Adam(params, lr=self.lr, betas=self.betas, eps=self.eps)

    def rule(self) -> DifferentiableSGD | DifferentiableAdam:
        """The same optimizer as a pure function of tensors, numerically equal to :meth:`build`'s."""
        if self.kind == "sgd":
            return DifferentiableSGD(self.lr)
        return DifferentiableAdam(self.lr, self.betas, self.eps)

    @classmethod
    def of(cls, optimizer: torch.optim.Optimizer) -> OptimizerSpec:
        """The spec of a plain ``torch.optim.SGD`` or ``Adam`` with one parameter group; ValueError for
        anything whose step the differentiable twins do not reproduce (momentum, weight decay, AMSGrad,
        AdamW and other classes), rather than a step that silently differs."""
        groups = optimizer.param_groups
        group = groups[0]
        unsupported = {"momentum": 0, "weight_decay": 0, "nesterov": False, "amsgrad": False, "maximize": False}
        changed = [key for key, plain in unsupported.items() if group.get(key, plain) != plain]
        kind = {torch.optim.SGD: "sgd", torch.optim.Adam: "adam"}.get(type(optimizer))
        if kind is None or changed or len(groups) != 1:
            what = f"{type(optimizer).__name__}" + (f" with {', '.join(changed)}" if changed else "")
            raise ValueError(f"{what} over {len(groups)} parameter group(s) has no differentiable twin")
        betas = tuple(float(b) for b in group.get("betas", (0.9, 0.999)))
        return cls(kind, float(group["lr"]), betas, float(group.get("eps", 1e-8)))  # type: ignore[arg-type]


@dataclass(frozen=True)
class FunctionalOptimizer:
    """One network's inner optimizer as a value: its rule, its state and this step's learning-rate factor.

    :meth:`step` returns a new optimizer instead of changing this one, so an inner step built from it is a
    pure function of its inputs (:mod:`metaframe.recompute` runs it again during the backward pass).

    :param rule: the differentiable SGD or Adam.
    :param state: the rule's state after the steps taken so far.
    :param differentiate: keep the graph through this network's steps (second order); otherwise each
        step's result is a fresh leaf, a constant to any later gradient.
    :param lr_factor: the inner schedule's multiplier for the next step.
    """

    rule: DifferentiableSGD | DifferentiableAdam
    state: OptimizerState
    differentiate: bool
    lr_factor: float = 1.0

    @classmethod
    def fresh(cls, spec: OptimizerSpec, params: Mapping[str, Tensor], differentiate: bool) -> FunctionalOptimizer:
        """A fresh optimizer for ``params``, as ``adapt`` makes a fresh ``torch.optim`` one per task."""
        rule = spec.rule()
        return cls(rule, rule.init(params), differentiate)

    def at(self, lr_factor: float) -> FunctionalOptimizer:
        """The same optimizer with the schedule's factor for the next step."""
        return replace(self, lr_factor=lr_factor)

    def step(
        self, params: Mapping[str, Tensor], loss: Tensor, retain_graph: bool = False
    ) -> tuple[dict[str, Tensor], FunctionalOptimizer]:
        """New ``params`` after one step on ``loss``, and the optimizer with its state advanced.

        Like ``torch.optim``, a parameter that ``loss`` does not depend on is left as it is.
        ``retain_graph``: keep ``loss``'s graph for another network's step on the same loss.
        """
        keys = list(params)
        inputs = [params[k] for k in keys]
        keep = retain_graph or self.differentiate
        grads = torch.autograd.grad(loss, inputs, create_graph=self.differentiate, retain_graph=keep, allow_unused=True)
        used = {k: g for k, g in zip(keys, grads) if g is not None}
        state = dict(self.state)  # the caller's state stays as it was
        with torch.set_grad_enabled(self.differentiate):
            moved = self.rule.update({k: params[k] for k in used}, used, state, self.lr_factor)
        if not self.differentiate:
            moved = {k: v.requires_grad_() for k, v in moved.items()}
        return {**params, **moved}, replace(self, state=state)

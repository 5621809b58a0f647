"""An inner step whose graph is recomputed in the backward pass instead of kept: second-order memory flat in T.

A second-order meta-gradient keeps, for each of T inner steps, the activations of the step and of its inner
gradient, so its memory grows with T. :func:`recomputed_step` keeps only a step's inputs (the weights
and optimizer state, which the next step needs anyway): its forward pass takes the step first-order
(its values are the same; no graph is built), and its backward pass takes it again with the graph, then
differentiates through it. The cost is one first-order step more per inner step.

``torch.utils.checkpoint`` fits badly: an inner step calls ``torch.autograd.grad`` itself, which makes
the non-reentrant checkpoint recompute the step during the forward pass, once per inner gradient (a GAN
step has two), and keep what those gradients did not consume until the outer backward pass. On a small
convolutional GAN it kept 12.8 MiB per inner step where the step's weights and moments are 3.3 MiB; this keeps 3.5.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from typing import Any

import torch
from torch import Tensor

from metaframe.params import FunctionalOptimizer

Step = Callable[
    [Mapping[str, Tensor], Mapping[str, FunctionalOptimizer]], tuple[dict[str, Tensor], dict[str, FunctionalOptimizer]]
]
Key = tuple[str, ...]


def flatten(
    weights: Mapping[str, Tensor], optimizers: Mapping[str, FunctionalOptimizer]
) -> tuple[list[Key], list[Tensor]]:
    """The weights and every optimizer's state as one list of tensors, with a key for each."""
    keys: list[Key] = [("weight", key) for key in weights]
    keys += [("state", name, key) for name, optimizer in optimizers.items() for key in optimizer.state]
    return keys, [weights[k[1]] if k[0] == "weight" else optimizers[k[1]].state[k[2]] for k in keys]


def unflatten(
    keys: list[Key], tensors: list[Tensor], optimizers: Mapping[str, FunctionalOptimizer]
) -> tuple[dict[str, Tensor], dict[str, FunctionalOptimizer]]:
    """The inverse of :func:`flatten`, with ``optimizers`` giving each optimizer's rule and settings."""
    weights = {key[1]: tensor for key, tensor in zip(keys, tensors) if key[0] == "weight"}
    states: dict[str, dict[str, Tensor]] = {name: {} for name in optimizers}
    for key, tensor in zip(keys, tensors):
        if key[0] == "state":
            states[key[1]][key[2]] = tensor
    return weights, {name: replace(optimizer, state=states[name]) for name, optimizer in optimizers.items()}


def network_of(key: Key) -> str:
    """The network a flattened entry belongs to."""
    return key[1].split(".", 1)[0] if key[0] == "weight" else key[1]


class RecomputedStep(torch.autograd.Function):
    """Autograd's view of one inner step: flat tensors in, flat tensors out, the graph rebuilt on demand."""

    @staticmethod
    def forward(
        ctx: Any, step: Step, keys: list[Key], optimizers: Mapping[str, FunctionalOptimizer], *inputs: Tensor
    ) -> tuple[Tensor, ...]:
        ctx.step, ctx.keys = step, keys
        ctx.optimizers = {name: replace(optimizer, state={}) for name, optimizer in optimizers.items()}
        ctx.rng = torch.get_rng_state(), cuda_rng_states(inputs)
        ctx.save_for_backward(*inputs)
        first_order = {name: replace(optimizer, differentiate=False) for name, optimizer in optimizers.items()}
        leaves = as_leaves(keys, inputs, wanted=())
        with torch.enable_grad():
            outputs = tuple(t.detach() for t in run(step, keys, leaves, first_order))
        differentiated = {name for name, optimizer in optimizers.items() if optimizer.differentiate}
        constant = [t for k, t in zip(keys, outputs) if network_of(k) not in differentiated]
        ctx.mark_non_differentiable(*constant)  # a constant network's steps stay constants, as unrecomputed
        return outputs

    @staticmethod
    def backward(ctx: Any, *grads: Tensor | None) -> tuple[Tensor | None, ...]:
        wanted = [i for i, need in enumerate(ctx.needs_input_grad[3:]) if need]
        inputs = as_leaves(ctx.keys, ctx.saved_tensors, wanted)
        cpu_state, cuda_states = ctx.rng
        with torch.random.fork_rng(devices=list(cuda_states)), torch.enable_grad():
            torch.set_rng_state(cpu_state)
            for device, state in cuda_states.items():
                torch.cuda.set_rng_state(state, device)
            outputs = run(ctx.step, ctx.keys, inputs, ctx.optimizers)
        pairs = [(o, g) for o, g in zip(outputs, grads) if g is not None and o.requires_grad]
        found = torch.autograd.grad(
            [o for o, _ in pairs], [inputs[i] for i in wanted], [g for _, g in pairs], allow_unused=True
        ) if pairs and wanted else [None] * len(wanted)  # fmt: skip
        result: list[Tensor | None] = [None] * len(inputs)
        for i, grad in zip(wanted, found):
            result[i] = grad
        return (None, None, None, *result)


def as_leaves(keys: list[Key], tensors: Collection[Tensor], wanted: Collection[int]) -> list[Tensor]:
    """Detached copies of the inputs; the weights (an inner step differentiates its loss by them) and
    the ``wanted`` entries (the backward pass differentiates by them) require gradients."""
    return [
        t.detach().requires_grad_(key[0] == "weight" or i in wanted) for i, (key, t) in enumerate(zip(keys, tensors))
    ]


def run(
    step: Step, keys: list[Key], inputs: list[Tensor], optimizers: Mapping[str, FunctionalOptimizer]
) -> tuple[Tensor, ...]:
    """One inner step on flat tensors."""
    weights, optimizers = unflatten(keys, inputs, optimizers)
    new_weights, new_optimizers = step(weights, optimizers)
    out_keys, outputs = flatten(new_weights, new_optimizers)
    assert out_keys == keys, "an inner step must give back the weights and optimizer state it was given"
    return tuple(outputs)


def cuda_rng_states(tensors: Collection[Tensor]) -> dict[int, Tensor]:
    """The random state of every CUDA device the tensors live on (a step may draw random numbers)."""
    devices = {t.device.index or 0 for t in tensors if t.device.type == "cuda"}
    return {device: torch.cuda.get_rng_state(device) for device in devices}


def recomputed_step(
    step: Step, weights: Mapping[str, Tensor], optimizers: Mapping[str, FunctionalOptimizer]
) -> tuple[dict[str, Tensor], dict[str, FunctionalOptimizer]]:
    """``step(weights, optimizers)`` with the same result, whose graph is rebuilt in the backward pass."""
    keys, inputs = flatten(weights, optimizers)
    outputs = RecomputedStep.apply(step, keys, dict(optimizers), *inputs)
    return unflatten(keys, list(outputs), optimizers)

"""Personalization as a pure function of the weights: :func:`metaframe.loop.adapt`'s iterations, differentiable.

A second-order algorithm differentiates a loss after personalization with respect to the weights before
it. :func:`functional_adapt` runs the iterations ``adapt`` runs — the model's own inner step in its
functional form (``TaskModel.functional_inner_step``: the same batch filling, for a GAN the same D step
then G step), the same optimizers (``TaskModel.inner_optimizer_specs``), fresh for each task, and the same
learning-rate schedule (:func:`metaframe.loop.inner_lr_factor`) — on explicit tensors instead of in place.
Like the loop, it knows nothing of any particular model or algorithm.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import partial

from torch import Tensor

from metaframe.loop import inner_lr_factor
from metaframe.params import FunctionalOptimizer, named_parameters, of_network
from metaframe.protocols import Batch, TaskModel
from metaframe.recompute import recomputed_step


def start_weights(model: TaskModel, networks: Collection[str], differentiate: Collection[str]) -> dict[str, Tensor]:
    """The weights the inner loop starts from: a differentiated network's own parameters (so the graph leads
    back to them), a detached leaf copy of the others' (their steps are constants to any gradient)."""
    weights = named_parameters(model.networks, networks)
    return {
        key: value if key.split(".", 1)[0] in differentiate else value.detach().requires_grad_()
        for key, value in weights.items()
    }


def fresh_optimizers(
    model: TaskModel, weights: dict[str, Tensor], differentiate: Collection[str]
) -> dict[str, FunctionalOptimizer]:
    """One fresh functional optimizer per network the model adapts, from the model's own specs."""
    return {
        name: FunctionalOptimizer.fresh(spec, of_network(weights, name), name in differentiate)
        for name, spec in model.inner_optimizer_specs().items()
    }


def functional_adapt(
    model: TaskModel,
    support: Batch,
    steps: int,
    schedule: str,
    differentiate: Collection[str],
    recompute: bool = False,
) -> dict[str, Tensor]:
    """The weights of every adapted network after ``steps`` inner iterations on ``support``, as
    :func:`~metaframe.loop.adapt` would leave them, without changing the model's parameters.

    :param differentiate: networks whose steps keep their graph (second order); with none, the result
        equals ``adapt``'s weights and carries no graph.
    :param recompute: keep no graph of an iteration, rebuild it in the backward pass
        (:func:`metaframe.recompute.recomputed_step`): memory grows with T only by the weights and
        optimizer state of each step, for one more first-order iteration per step.
    """
    model.train()
    model.set_support(support)
    specs = model.inner_optimizer_specs()
    weights = start_weights(model, specs, differentiate)
    optimizers = fresh_optimizers(model, weights, differentiate)
    for i in range(steps):
        factor = inner_lr_factor(i, steps, schedule)
        optimizers = {name: optimizer.at(factor) for name, optimizer in optimizers.items()}
        if recompute:
            weights, optimizers = recomputed_step(
                partial(model.functional_inner_step, batch=support), weights, optimizers
            )
        else:
            weights, optimizers = model.functional_inner_step(weights, optimizers, support)
    return weights

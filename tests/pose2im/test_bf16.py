"""``model.bf16``: forward passes and losses under bfloat16 autocast; weights, gradients and scores float32.

Meant for CUDA; the CPU runs bfloat16 autocast too, which is what these tests use.
"""

from __future__ import annotations

import pytest
import torch

from metaframe.params import snapshot
from tests.pose2im.conftest import make_batch, tiny


def generator_output_dtypes(model, run) -> list[torch.dtype]:
    seen: list[torch.dtype] = []
    handle = model.networks["generator"].register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    try:
        run()
    finally:
        handle.remove()
    return seen


def test_off_by_default_and_float32_throughout(batch):
    model = tiny()
    assert not model.options.bf16
    assert generator_output_dtypes(model, lambda: model.inner_step(batch, model.inner_optimizers())) == [torch.float32]


def test_inner_step_runs_in_bfloat16_and_keeps_float32_weights(batch):
    model = tiny(bf16=True)
    before = snapshot(model.networks)
    optimizers = model.inner_optimizers()
    dtypes = generator_output_dtypes(model, lambda: model.inner_step(batch, optimizers))
    assert dtypes == [torch.bfloat16]
    after = snapshot(model.networks)
    assert all(value.dtype == torch.float32 for value in after.values())
    assert any(not torch.equal(before[key], after[key]) for key in before)
    assert all(p.grad is None or p.grad.dtype == torch.float32 for p in model.networks.parameters())


def test_losses_agree_with_float32_to_bfloat16_precision(batch):
    full, half = tiny(), tiny(bf16=True)
    expected, got = full.losses(batch), half.losses(batch)
    for name in expected:
        assert got[name].item() == pytest.approx(expected[name].item(), rel=0.05), name


def test_scores_and_the_functional_path_stay_usable():
    model = tiny(bf16=True)
    query = make_batch(4, seed=1)
    assert model.predict(query).dtype == torch.float32
    assert all(torch.isfinite(torch.tensor(value)) for value in model.score(query).values())
    params = {f"generator.{key}": value for key, value in model.networks["generator"].named_parameters()}
    loss = model.functional_loss(params, query)
    (grad,) = torch.autograd.grad(loss, [next(iter(params.values()))], create_graph=True)
    assert grad.dtype == torch.float32 and torch.isfinite(grad).all()

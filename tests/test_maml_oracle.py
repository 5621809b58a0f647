"""MAML's meta-gradient equals the one computed with `higher`, an independent implementation."""

import higher
import pytest
import torch
from torch import nn

from metaframe.build import build_algorithm, build_setup
from metaframe.config import Config
from metaframe.loop import inner_lr_factor
from metaframe.params import OptimizerSpec
from metaframe.testing import small_settings

T = 4


def higher_meta_gradient(model, task, kind):
    network = model.networks["mlp"]
    own = model.inner_optimizers()["mlp"]
    with higher.innerloop_ctx(network, own, copy_initial_weights=False, track_higher_grads=True) as (fnet, diffopt):
        for i in range(T):
            loss = nn.functional.mse_loss(fnet(task.support["x"]), task.support["y"])
            lr = own.param_groups[0]["lr"] * inner_lr_factor(i, T)
            diffopt.step(loss, override={"lr": [lr]})
        query_loss = nn.functional.mse_loss(fnet(task.query["x"]), task.query["y"])
        return torch.autograd.grad(query_loss, list(network.parameters()))


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_meta_gradient_matches_higher(plugins, kind):
    config = Config("maml", "mlp", "sine", small_settings(k=5, t=T))
    config.options["model"] = {"optimizer": kind, "lr": 0.03, "beta1": 0.5}
    session = build_setup(config, plugins)
    session.model.networks.double()
    if kind == "adam":
        # higher adds eps to sqrt(v) before bias correction, torch.optim after it; with eps → 0 both agree.
        # The model's spec is what both MAML and its torch.optim optimizers (given to higher) are made from.
        session.model.inner_optimizer_specs = lambda: {"mlp": OptimizerSpec("adam", 0.03, (0.5, 0.999), 1e-16)}
    maml = build_algorithm(session, plugins)
    task = session.sampler.sample(torch.Generator().manual_seed(4))
    task.support = {k: v.double() for k, v in task.support.items()}
    task.query = {k: v.double() for k, v in task.query.items()}
    ours, _ = maml.meta_gradient(task)
    theirs = higher_meta_gradient(session.model, task, kind)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    # second-order terms matter here: first-order would differ
    assert any(not torch.allclose(a, torch.zeros_like(a)) for a in ours)

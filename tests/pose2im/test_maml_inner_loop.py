"""One inner loop on pose2im: MAML's functional inner iteration is ``adapt``'s D step then G step.

Tiny networks at 16 px so each test runs in seconds on one thread.
"""

from __future__ import annotations

import json

import pytest
import torch

from metaframe.params import of_network
from metaframe.protocols import Task
from metaframe.testing import check_functional_inner_loop, small_settings
from metaframe_pose2im.model import Pose2ImModel
from tests.pose2im.conftest import make_batch, tiny

SIZE = 16


def small(**options) -> Pose2ImModel:
    return tiny(size=SIZE, **options)


def person(k: int) -> Task:
    return Task("person", make_batch(k, size=SIZE, seed=3), make_batch(2, size=SIZE, seed=4))


@pytest.mark.parametrize(
    "k, options",
    [
        (3, {}),  # K < batch: each frame computed once, weighted by its count
        (3, {"norm": "batch"}),  # K < batch with batch norm: the frames really repeated
        (10, {}),  # K > batch: a random subset each step, from torch's global generator
        (3, {"generator": "unet"}),  # reference-conditioned: set_support before the steps
    ],
)
def test_graph_cut_trajectory_equals_adapt_on_pose2im(k, options):
    check_functional_inner_loop(small(**options), person(k), small_settings(t=4))


class SkipsTheDiscriminatorStep(Pose2ImModel):
    """The old MAML inner loop: generator steps only, against a discriminator that never moves."""

    def functional_inner_step(self, params, optimizers, batch):
        g_new, g_optimizer = optimizers["generator"].step(
            of_network(params, "generator"), self.functional_loss(params, batch)
        )
        return {**params, **g_new}, {**optimizers, "generator": g_optimizer}


def test_a_functional_step_that_differs_from_inner_step_is_caught():
    model = small()
    model.__class__ = SkipsTheDiscriminatorStep
    with pytest.raises(AssertionError, match="not close"):
        check_functional_inner_loop(model, person(3), small_settings(t=2))


@pytest.mark.parametrize("k", [3, 10])  # 10 > batch: each step draws a random subset, again when recomputed
def test_checkpointed_inner_loop_gives_the_same_meta_gradient_on_pose2im(plugins, k):
    task = person(k)
    results = []
    for checkpoint_inner in (False, True):
        model = small()
        maml = plugins.algorithms.get("maml").build(
            {"checkpoint_inner": checkpoint_inner}, model, small_settings(k=k, t=3)
        )
        torch.manual_seed(1)
        results.append(maml.meta_gradient(task))
    (plain, plain_loss), (checkpointed, checkpointed_loss) = results
    assert plain_loss == pytest.approx(checkpointed_loss, rel=1e-6)
    for a, b in zip(plain, checkpointed):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-4)


def test_maml_meta_learns_the_generator_through_steps_taken_against_a_moving_discriminator(plugins):
    """The D steps are taken in MAML's inner loop, as in adapt, and the query loss is scored against D_T."""
    model, task = small(), person(3)
    maml = plugins.algorithms.get("maml").build({}, model, small_settings(k=3, t=3))
    adapted = maml.adapted(task.support)
    d_start = {f"discriminator.{k}": p for k, p in model.networks["discriminator"].named_parameters()}
    assert any(not torch.equal(adapted[key], p) for key, p in d_start.items()), "D took no step"
    assert all(adapted[key].grad_fn is None for key in d_start), "D's steps are constants to the meta-gradient"
    assert all(adapted[key].grad_fn is not None for key in maml.params), "G's steps are differentiated"
    _, query_loss = maml.meta_gradient(task)
    assert query_loss == pytest.approx(model.functional_loss(adapted, task.query).item(), rel=1e-6)
    assert query_loss != pytest.approx(model.functional_loss(of_network(adapted, "generator"), task.query).item())


def test_maml_on_pose2im_declares_the_discriminator_constant(plugins):
    notes = plugins.algorithms.get("maml").build({}, small(), small_settings()).describe()
    assert notes["differentiated"] == ["generator"] and notes["constant"] == ["discriminator"]
    assert json.loads(json.dumps(notes))["inner_optimizers"]["discriminator"]["betas"] == [0.5, 0.999]

"""The reference-conditioned U-Net generator through the model: the engine contract, and what it sees."""

from __future__ import annotations

import pytest
import torch

from metaframe.loop import adapt
from metaframe.protocols import Capability, Task
from metaframe.testing import check_model
from tests.pose2im.conftest import make_batch, tiny


def test_passes_the_engine_contract():
    task = Task("one-person", make_batch(3), make_batch(4, seed=1))
    check_model(tiny(generator="unet"), task)


def test_it_draws_new_poses_only_after_it_was_given_a_support_set():
    model = tiny(generator="unet")
    with pytest.raises(RuntimeError, match="set_support"):
        model.predict(make_batch(2))
    adapt(model, make_batch(3), 1)
    assert model.predict(make_batch(2, seed=1)).shape == (2, 3, 32, 32)


def test_where_the_mask_is_closed_the_output_is_the_background_plate():
    model = tiny(generator="unet")
    with torch.no_grad():
        model.networks["generator"].head.bias[3] = -50.0  # the mask logit: closed everywhere
    support = make_batch(3)
    support["image"] = torch.full_like(support["image"], 0.25)  # a support set of one flat colour
    model.set_support(support)
    model.train(False)
    assert Capability.PREDICTIONS in model.capabilities
    torch.testing.assert_close(model.predict(make_batch(2, seed=2)), torch.full((2, 3, 32, 32), 0.25))

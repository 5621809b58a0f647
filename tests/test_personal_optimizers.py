"""Personalizing a trained model (eval, compare, samples, retarget) takes the model's personal optimizers;
the meta-training inner loop keeps its inner ones."""

from __future__ import annotations

import pytest
import torch

from metaframe.loop import adapt
from metaframe.plugins import load_plugins
from metaframe.testing import options_for_tests, small_settings
from tests.plugins.quadratic import Points, Quadratic


class PersonalQuadratic(Quadratic):
    """The quadratic model personalized with a learning rate of its own."""

    def __init__(self, dim: int, lr: float, personal: float) -> None:
        super().__init__(dim, lr)
        self.personal = personal

    def personal_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"point": torch.optim.SGD(self.networks["point"].parameters(), lr=self.personal)}


def one_step(model: Quadratic, task, personal: bool) -> torch.Tensor:
    before = model.networks["point"].w.detach().clone()
    adapt(model, task.support, 1, "constant", personal=personal)
    return model.networks["point"].w.detach() - before


def test_adapt_takes_the_personal_optimizers_only_when_personalizing():
    task = Points(3, 2).sample(torch.Generator().manual_seed(0))
    inner, personal = (
        one_step(PersonalQuadratic(3, 0.1, 0.5), task, False),
        one_step(PersonalQuadratic(3, 0.1, 0.5), task, True),
    )
    assert torch.allclose(personal, 5 * inner)


def test_by_default_personalizing_steps_as_the_inner_loop_does():
    task = Points(3, 2).sample(torch.Generator().manual_seed(0))
    assert torch.equal(one_step(Quadratic(3, 0.1), task, True), one_step(Quadratic(3, 0.1), task, False))


@pytest.mark.parametrize("name", ["reptile", "fomaml", "pretrain"])
def test_an_algorithms_personalize_rule_uses_them_and_its_inner_loop_does_not(name):
    entry = load_plugins().algorithms.get(name)
    model = PersonalQuadratic(3, 0.1, 0.0)  # a personal step of 0 moves nothing
    algorithm = entry.build(options_for_tests(entry), model, small_settings(t=1))
    task = Points(3, 2).sample(torch.Generator().manual_seed(0))
    before = model.networks["point"].w.detach().clone()
    algorithm.personalize(model, task.support, 3, "constant")
    assert torch.equal(model.networks["point"].w.detach(), before)
    algorithm.step([task], 0)
    assert not torch.equal(model.networks["point"].w.detach(), before)

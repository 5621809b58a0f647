"""Every built-in outer algorithm runs on pose2im (MAML through its functional objective)."""

from __future__ import annotations

import pytest
import torch

from metaframe.params import snapshot
from metaframe.protocols import Task
from metaframe.testing import check_algorithm, small_settings
from tests.pose2im.conftest import make_batch, tiny


def tasks() -> list[Task]:
    return [Task("person-a", make_batch(2, seed=3), make_batch(3, seed=4))]


@pytest.mark.parametrize("name", ["reptile", "fomaml", "maml", "pretrain"])
def test_one_meta_step(plugins, name):
    model = tiny()
    algorithm = plugins.algorithms.get(name).build({}, model, small_settings(k=2, t=2))
    logs = check_algorithm(algorithm, model, tasks())
    assert logs


def test_maml_moves_only_the_generator(plugins):
    model = tiny()
    before = snapshot(model.networks)
    plugins.algorithms.get("maml").build({}, model, small_settings(k=2, t=2)).step(tasks(), 0)
    after = snapshot(model.networks)
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("discriminator."))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("generator."))


def test_reptile_can_meta_learn_the_generator_only(plugins):
    model = tiny()
    before = snapshot(model.networks)
    reptile = plugins.algorithms.get("reptile").build({"networks": "generator"}, model, small_settings(t=2))
    reptile.step(tasks(), 0)
    after = snapshot(model.networks)
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("discriminator."))

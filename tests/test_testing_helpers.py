"""metaframe.testing checks state through the files a checkpoint really writes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from metaframe.protocols import OuterAlgorithm
from metaframe.testing import check_algorithm
from tests.plugins.quadratic import Points, Quadratic


class NumpyState(OuterAlgorithm):
    """Steps fine, but keeps a numpy scalar in its state: torch.save takes it, a weights_only load does not."""

    def __init__(self, model):
        self.model = model

    def step(self, tasks, iteration):
        with torch.no_grad():
            self.model.networks["point"].w += 0.1
        return {"moved": 0.1}

    def state_dict(self):
        return {"scale": np.float64(0.5)}


def test_state_that_only_pickle_could_read_fails_the_contract():
    model = Quadratic(3, 0.1)
    tasks = [Points(3, 2).sample(torch.Generator().manual_seed(0))]
    with pytest.raises(AssertionError, match="weights_only load refuses"):
        check_algorithm(NumpyState(model), model, tasks)

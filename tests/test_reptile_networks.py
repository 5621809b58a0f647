"""Reptile's choice of networks and buffers, on the MLP toy with an added BatchNorm buffer."""

import torch
from torch import nn

from metaframe.build import build_algorithm, build_setup
from metaframe.config import Config
from metaframe.testing import small_settings


def two_network_session(plugins, options):
    config = Config("reptile", "mlp", "sine", small_settings(t=3))
    config.options["algorithm"] = options
    session = build_setup(config, plugins)
    session.model.networks["frozen"] = nn.BatchNorm1d(1)  # an extra network: a buffer-carrying module
    return session, build_algorithm(session, plugins)


def test_networks_not_chosen_stay_fixed(plugins):
    session, reptile = two_network_session(plugins, {"networks": "frozen"})
    mlp_before = [p.detach().clone() for p in session.model.networks["mlp"].parameters()]
    reptile.step([session.sampler.sample(torch.Generator().manual_seed(1))], 0)
    for before, after in zip(mlp_before, session.model.networks["mlp"].parameters()):
        assert torch.equal(before, after)


def test_unknown_network_is_a_clear_error(plugins):
    import pytest

    from metaframe.errors import UsageError

    with pytest.raises(UsageError, match="has no network 'nope'; it has mlp"):
        two_network_session(plugins, {"networks": "nope"})

"""Shared fixtures: a fresh plugin manager per test, with the fixture plugins available."""

from __future__ import annotations

import pytest

from metaframe.plugins import Plugins, load_plugins, use_plugins
from tests.plugins import quadratic


@pytest.fixture
def plugins() -> Plugins:
    """The installed plugins plus the quadratic fixture plugin, loaded afresh and made active."""
    loaded = load_plugins(extra=[("quadratic", quadratic)])
    with use_plugins(loaded):
        yield loaded


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path_factory, monkeypatch):
    """Keep every test's caches out of the user's home folder."""
    monkeypatch.setenv("METAFRAME_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))

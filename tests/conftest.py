"""Shared fixtures: a fresh plugin manager per test, with the fixture plugins available."""

from __future__ import annotations

import os
import tempfile

import pytest

from metaframe.plugins import Plugins, load_plugins, use_plugins
from tests.plugins import keyed, quadratic


@pytest.fixture
def plugins() -> Plugins:
    """The installed plugins plus the quadratic and keyed fixture plugins, loaded afresh and made active."""
    loaded = load_plugins(extra=[("quadratic", quadratic), ("keyed", keyed)])
    with use_plugins(loaded):
        yield loaded


# Keep every cache out of the user's home folder, including what test modules build at import time.
os.environ["METAFRAME_CACHE"] = os.environ.get("METAFRAME_TEST_CACHE") or tempfile.mkdtemp(prefix="metaframe-cache-")

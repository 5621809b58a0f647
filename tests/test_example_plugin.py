"""The example third-party plugin (examples/metaframe_example_plugin): registered, listed, run, installed."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from metaframe.plugins import Plugins, load_plugins
from metaframe.testing import run_cli

EXAMPLE = Path(__file__).parents[1] / "examples" / "metaframe_example_plugin"
NAME = "reptile-momentum"
RUN = ["--model", "mlp", "--task", "sine", "--meta-iterations", "3", "--k", "5", "--t", "2", "--quiet"]


@pytest.fixture
def example(monkeypatch) -> Plugins:
    """The installed plugins plus the example, registered from its source folder as plugin ``example``."""
    monkeypatch.syspath_prepend(str(EXAMPLE))
    from metaframe_momentum import plugin

    return load_plugins(extra=[("example", plugin)])


def test_example_is_listed_with_its_summary(example):
    result = run_cli(["plugins", "--json"], example)
    assert result.exit_code == 0, result.stderr
    listing = json.loads(result.stdout)
    assert {"name": "example", "version": "unknown", "status": "ok", "error": None} in listing["plugins"]
    entry = next(entry for entry in listing["algorithms"] if entry["name"] == NAME)
    assert entry["plugin"] == "example" and entry["summary"].startswith("Reptile with a momentum meta-step")


def test_example_meta_trains_on_sine(example, tmp_path):
    out = tmp_path / "run"
    result = run_cli(["run", NAME, *RUN, "--out", str(out)], example)
    assert result.exit_code == 0, result.stderr
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "finished" and record["iteration"] == 3
    assert record["config"]["algorithm"] == NAME
    assert record["provenance"]["plugins"]["algorithm"]["name"] == "example"
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [m["iteration"] for m in metrics] == [0, 1, 2] and all(m["distance"] > 0 for m in metrics)
    assert (out / "model.safetensors").is_file() and (out / "resume.pt").is_file()


def test_example_options_are_checked_like_builtin_ones(example, tmp_path):
    result = run_cli(["run", NAME, *RUN, "--set", "algorithm.momentum=1", "--out", str(tmp_path / "r")], example)
    assert result.exit_code == 2 and "momentum must be in [0, 1)" in result.stderr
    result = run_cli(["run", NAME, *RUN, "--set", "algorithm.momentun=0.5", "--out", str(tmp_path / "r")], example)
    assert result.exit_code == 2 and "did you mean algorithm.momentum?" in result.stderr


def test_example_own_tests_pass(example):
    spec = importlib.util.spec_from_file_location("example_tests", EXAMPLE / "tests" / "test_reptile_momentum.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.test_contract()
    module.test_without_momentum_it_is_reptile_with_a_constant_epsilon()


PROBE = """
import importlib.metadata, json, metaframe_momentum
points = [[e.name, e.value, e.dist.version] for e in importlib.metadata.entry_points(group="metaframe")]
print(json.dumps({"entry_points": points, "module": metaframe_momentum.__file__}))
"""


def python(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run this interpreter with ``args`` in a fresh process; its stdout."""
    return subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_installed_example_is_found_through_its_entry_point(tmp_path):
    source, target = tmp_path / "source", tmp_path / "site"  # build a copy: pip writes build/ into the source
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    offline = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    python(["-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target), str(source)],
           offline, tmp_path)  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(target)}
    found = json.loads(python(["-c", PROBE], env, tmp_path))
    assert ["momentum", "metaframe_momentum.plugin", "0.1.0"] in found["entry_points"]
    assert found["module"].startswith(str(target))
    listing = json.loads(python(["-m", "metaframe", "plugins", "--json"], env, tmp_path))
    assert {"name": "momentum", "version": "0.1.0", "status": "ok", "error": None} in listing["plugins"]
    entry = next(entry for entry in listing["algorithms"] if entry["name"] == NAME)
    assert entry["plugin"] == "momentum"

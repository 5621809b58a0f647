"""Docs match the code: every hook and every command option is documented, the worked example of
write-a-plugin runs, and the errors the docs quote are what the commands print."""

import importlib.util
import inspect
import json
import re
import sys
from pathlib import Path

import torch

from metaframe import hookspecs
from metaframe.cli import core_app
from metaframe.testing import check_model, check_sampler, load_plugins, options_for_tests, run_cli
from tests.signatures import written

DOCS = Path(__file__).parents[1] / "docs"


def test_every_hook_is_documented_with_its_signature():
    """Under its own heading, annotations included (``tests/test_plugin_api.py`` compares every signature)."""
    text = (DOCS / "reference" / "hooks.md").read_text()
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("register_"):
            assert f"### `{written(function, name)}`" in text, name


def test_every_core_command_option_is_in_the_cli_reference():
    text = (DOCS / "reference" / "cli.md").read_text()
    for command in core_app().registered_commands:
        name = command.name
        help_text = run_cli([name, "--help"]).stdout
        assert f"metaframe {name}" in text, name
        for option in set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help"}:
            assert option in text, f"{name} {option} is not in docs/reference/cli.md"


def python_block(page: Path, first_line: str) -> str:
    """The ```python block of ``page`` that starts with ``first_line``."""
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(), re.DOTALL)
    matches = [block for block in blocks if block.startswith(first_line)]
    assert len(matches) == 1, f"{page.name} should hold one python block starting {first_line!r}"
    return matches[0]


def test_the_worked_example_of_write_a_plugin_runs(tmp_path, monkeypatch):
    source = python_block(DOCS / "howto" / "write-a-plugin.md", "# metaframe_linreg/plugin.py")
    (tmp_path / "linreg_plugin.py").write_text(source)
    spec = importlib.util.spec_from_file_location("linreg_plugin", tmp_path / "linreg_plugin.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "linreg_plugin", module)  # as an import would (dataclasses look it up)
    spec.loader.exec_module(module)
    plugins = load_plugins(extra=[("linreg", module)])
    assert plugins.info("linreg").status == "ok", plugins.info("linreg").error
    task = plugins.tasks.get("linreg")
    sampler = task.build(options_for_tests(task), k=3)
    check_sampler(sampler, 3)
    check_model(plugins.models.get("linear").build({}, sampler.info), sampler.sample(torch.Generator()))
    quick = ["--meta-iterations", "2", "--k", "3", "--t", "2", "--quiet"]
    runs = {("linear", "linreg"): ["--set", "task.dim=4"], ("mlp", "linreg"): [], ("linear", "sine"): []}
    for (model, task_name), extra in runs.items():
        out = tmp_path / f"{model}-{task_name}"
        args = ["run", "reptile", "--model", model, "--task", task_name, *extra, *quick, "--out", str(out)]
        result = run_cli(args, plugins)
        assert result.exit_code == 0, f"{model} on {task_name}: {result.stderr}"
        assert json.loads((out / "run.json").read_text())["status"] == "finished"


def test_the_refusals_the_docs_quote_are_what_the_command_prints(plugins, tmp_path):
    args = ["run", "reptile", "--model", "depth-regressor", "--task", "sine", "--out", str(tmp_path / "r")]
    printed = run_cli(args).stderr.strip()
    for page in (DOCS / "howto" / "write-a-plugin.md", DOCS / "reference" / "plugin-api.md"):
        quoted = [line for line in page.read_text().splitlines() if line.startswith("error: model 'depth-regressor'")]
        assert quoted == [printed], page.name

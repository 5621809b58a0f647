import importlib.metadata
import json

from metaframe.plugins import load_plugins
from metaframe.testing import run_cli
from tests.plugins import misbehaving


def entry_point(name: str, value: str) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name=name, value=value, group="metaframe")


def test_builtin_plugins_load_through_entry_points():
    plugins = load_plugins()
    assert {"reptile", "fomaml", "maml", "pretrain"} <= set(plugins.algorithms.names())
    assert plugins.algorithms.get("reptile").plugin == "algorithms"
    assert "mlp" in plugins.models and "sine" in plugins.tasks


def test_plugin_that_fails_to_import_is_reported_and_the_rest_works():
    eps = [entry_point("ghost", "tests.plugins.does_not_exist"), entry_point("toy", "metaframe_toy.plugin")]
    plugins = load_plugins(entry_points=eps)
    ghost = plugins.info("ghost")
    assert ghost.status == "failed" and "ModuleNotFoundError" in ghost.error
    assert plugins.info("toy").status == "ok" and "sine" in plugins.tasks


def test_plugin_raising_in_a_hook_registers_nothing():
    plugins = load_plugins(entry_points=[], extra=[("raising", misbehaving.Raising())])
    assert plugins.info("raising").status == "failed"
    assert "boom in a hook" in plugins.info("raising").error
    assert "half-registered" not in plugins.models


def test_misspelled_hook_is_caught():
    plugins = load_plugins(entry_points=[], extra=[("typo", misbehaving.Misspelled())])
    info = plugins.info("typo")
    assert info.status == "failed" and "register_model" in info.error


def test_duplicate_across_plugins_names_both():
    plugins = load_plugins(extra=[("dup", misbehaving.DuplicateReptile())])
    info = plugins.info("dup")
    assert info.status == "failed"
    assert "'reptile' is registered by both plugin 'algorithms' and 'dup'" in info.error
    assert plugins.algorithms.get("reptile").plugin == "algorithms"


def test_bad_name_fails_the_plugin():
    plugins = load_plugins(entry_points=[], extra=[("bad", misbehaving.BadName())])
    assert "lower-case" in plugins.info("bad").error


def test_plugins_json_lists_everything_and_failures():
    plugins = load_plugins(extra=[("raising", misbehaving.Raising())])
    result = run_cli(["plugins", "--json"], plugins)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"plugins", "algorithms", "models", "tasks", "presets", "experiments", "references"}
    # every reference is a plugin's, in the order registered: the pose2im plugin's three
    assert [(r["name"], r["plugin"]) for r in data["references"]] == [
        ("copy-nearest", "pose2im"),
        ("mean-support", "pose2im"),
        ("warp", "pose2im"),
    ]
    statuses = {p["name"]: p["status"] for p in data["plugins"]}
    assert statuses["raising"] == "failed" and statuses["algorithms"] == "ok"
    reptile = next(a for a in data["algorithms"] if a["name"] == "reptile")
    assert reptile["plugin"] == "algorithms" and reptile["summary"]


def test_plugins_table_shows_failed_plugin():
    plugins = load_plugins(extra=[("raising", misbehaving.Raising())])
    result = run_cli(["plugins"], plugins)
    assert result.exit_code == 0
    assert "raising" in result.stdout and "failed" in result.stdout


def test_plugin_raising_in_register_commands_does_not_break_the_cli():
    plugins = load_plugins(extra=[("nocmd", misbehaving.BrokenCommands())])
    result = run_cli(["plugins", "--json"], plugins)
    assert result.exit_code == 0, result.stderr
    status = {p["name"]: p for p in json.loads(result.stdout)["plugins"]}["nocmd"]
    assert status["status"] == "failed" and "no commands today" in status["error"]
    assert "misbehaving.py:" in status["error"], "the error says where it was raised"
    assert run_cli(["prepare", "--help"], plugins).exit_code == 0, "other plugins' commands still work"
    assert "half-broken" not in plugins.algorithms, "a plugin that failed contributes nothing"
    refused = run_cli(["run", "half-broken", "--model", "mlp", "--task", "sine"], plugins)
    assert refused.exit_code == 2 and "unknown algorithm 'half-broken'" in refused.stderr


def test_an_import_error_names_the_file_and_line(tmp_path, monkeypatch):
    (tmp_path / "typo_plugin.py").write_text("import math\n\nvalue = undefined_name\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    plugins = load_plugins(entry_points=[entry_point("typo", "typo_plugin")])
    error = plugins.info("typo").error
    assert error.startswith("NameError: name 'undefined_name' is not defined")
    assert f"{tmp_path / 'typo_plugin.py'}:3" in error

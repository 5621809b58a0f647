"""The Python API equals the command line: each command run both ways gives the same numbers, every
mistake raises UsageError with the line the command prints, and the how-to's session runs as written."""

from __future__ import annotations

import importlib.metadata
import json
import re
import tomllib
from pathlib import Path

import pytest
from safetensors.torch import load_file

import metaframe
from metaframe.errors import as_usage_errors
from metaframe.testing import run_cli

DOCS = Path(__file__).parents[1] / "docs"
SESSION_BLOCK = r"(<!-- not in the session:[^>]*-->\n)?```python\n(.*?)```"
"""A Python block of the how-to, and the comment before it that keeps it out of the session (it needs more
than the sine toy; the test named in the comment runs it)."""
QUICK = {"meta_iterations": 2, "k": 3, "t": 2, "overrides": ["task.eval_tasks=2"]}
QUICK_ARGS = ["--meta-iterations", "2", "--k", "3", "--t", "2", "--set", "task.eval_tasks=2", "--quiet"]
TOY = {"model": "mlp", "task": "sine"}
TOY_ARGS = ["--model", "mlp", "--task", "sine"]


def same_weights(a: Path, b: Path) -> bool:
    """Whether two weights files hold equal tensors."""
    first, second = load_file(a), load_file(b)
    return first.keys() == second.keys() and all(first[key].equal(second[key]) for key in first)


def without_speed(line: dict) -> dict:
    """A metrics line without its iterations per second (the one value that differs between two runs)."""
    return {key: value for key, value in line.items() if key != "it_per_s"}


def test_run_and_eval_give_what_the_commands_give(plugins, tmp_path):
    result = metaframe.run("reptile", **TOY, **QUICK, out=tmp_path / "api")
    cli = run_cli(["run", "reptile", *TOY_ARGS, *QUICK_ARGS, "--out", str(tmp_path / "cli")])
    assert cli.exit_code == 0, cli.stderr
    assert result.path == tmp_path / "api" and result.iteration == 2
    assert same_weights(result.weights, tmp_path / "cli" / "model.safetensors")
    logged = [json.loads(line) for line in (tmp_path / "cli" / "metrics.jsonl").read_text().splitlines()]
    assert [without_speed(line) for line in result.metrics] == [without_speed(line) for line in logged]
    scores = metaframe.evaluate([result.path, "random"])
    printed = run_cli(["eval", "--init", str(tmp_path / "cli"), "--init", "random", "--json", str(tmp_path / "e.json")])
    assert printed.exit_code == 0, printed.stderr
    rows = json.loads((tmp_path / "e.json").read_text())["rows"]
    assert [row.metrics for row in scores.rows] == [row["metrics"] for row in rows]
    assert [row.tasks for row in scores.rows] == [row["tasks"] for row in rows]
    assert scores[str(result.path)].k == 3


def test_compare_gives_what_the_command_gives(plugins, tmp_path):
    comparison = metaframe.compare(["reptile", "pretrain"], **TOY, **QUICK, out=tmp_path / "api")
    cli = run_cli(["compare", "reptile", "pretrain", *TOY_ARGS, *QUICK_ARGS, "--out", str(tmp_path / "cli")])
    assert cli.exit_code == 0, cli.stderr
    rows = json.loads((tmp_path / "cli" / "compare.json").read_text())["rows"]
    assert [row.metrics for row in comparison.scores.rows] == [row["metrics"] for row in rows]
    assert [row.init for row in comparison.scores.rows] == [
        str(tmp_path / "api" / "reptile"),
        *[str(tmp_path / "api" / "pretrain"), "random"],
    ]
    assert json.loads((tmp_path / "api" / "compare.json").read_text()) == comparison.scores.to_json()
    assert same_weights(comparison.runs["pretrain"].weights, tmp_path / "cli" / "pretrain" / "model.safetensors")


MISTAKES = [
    (
        metaframe.run,
        ("reptile",),
        {"model": "mpl", "task": "sine"},
        ["run", "reptile", "--model", "mpl", "--task", "sine"],
    ),
    (metaframe.run, ("reptile",), {**TOY, "k": 0}, ["run", "reptile", *TOY_ARGS, "--k", "0"]),
    (metaframe.run, ("reptile",), {"model": "mlp"}, ["run", "reptile", "--model", "mlp"]),
    (metaframe.run, ("reptile",), {**TOY, "resume": True}, ["run", "reptile", *TOY_ARGS, "--resume"]),
    (
        metaframe.run,
        ("reptile",),
        {**TOY, "overrides": ["model.nope=1"]},
        ["run", "reptile", *TOY_ARGS, "--set", "model.nope=1"],
    ),
    (metaframe.evaluate, (["nowhere"],), {}, ["eval", "--init", "nowhere"]),
    (metaframe.evaluate, (["random"],), {}, ["eval", "--init", "random"]),
    (metaframe.compare, (["reptile", "reptile"],), TOY, ["compare", "reptile", "reptile", *TOY_ARGS]),
    (metaframe.compare, (["reptile"],), {**TOY, "resume": True}, ["compare", "reptile", *TOY_ARGS, "--resume"]),
    (metaframe.reproduce, ("nothing",), {}, ["reproduce", "nothing"]),
    (metaframe.reproduce, ("metapix",), {"ks": "1,x"}, ["reproduce", "metapix", "--ks", "1,x"]),
]


@pytest.mark.parametrize(("function", "args", "kwargs", "argv"), MISTAKES, ids=lambda v: getattr(v, "__name__", None))
def test_every_mistake_raises_usage_error_with_the_line_the_command_prints(plugins, function, args, kwargs, argv):
    printed = run_cli(argv)
    assert printed.exit_code == 2
    with pytest.raises(metaframe.UsageError) as raised:
        function(*args, **kwargs)
    assert f"error: {raised.value}" == printed.stderr.strip()


def test_a_path_the_system_refuses_and_memory_that_cannot_be_had_are_usage_errors():
    def refused() -> None:
        raise PermissionError(13, "Permission denied", "/root/x")

    def too_big() -> None:
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 10 GB")

    with pytest.raises(metaframe.UsageError, match="^/root/x: Permission denied; check the path"):
        as_usage_errors(refused)()
    with pytest.raises(metaframe.UsageError, match="^out of memory: "):
        as_usage_errors(too_big)()
    with pytest.raises(RuntimeError, match="a bug"):  # a bug keeps its own exception
        as_usage_errors(lambda: (_ for _ in ()).throw(RuntimeError("a bug")))()


def test_the_howto_session_runs_as_written(plugins, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    found = re.findall(SESSION_BLOCK, (DOCS / "howto" / "python-api.md").read_text(), re.DOTALL)
    blocks = [code for marker, code in found if not marker]  # a marked block's own test runs it
    assert len(blocks) >= 5
    for block in blocks:
        exec(compile(block, "python-api.md", "exec"), namespace)  # noqa: S102 - the page's own code
    assert (tmp_path / "runs" / "cmp" / "compare.json").is_file()
    assert "greater than or equal to 1" in capsys.readouterr().out


def test_the_version_is_declared_once_in_each_place_and_agrees():
    declared = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["version"]
    assert metaframe.__version__ == declared == importlib.metadata.version("metaframe")


def test_reproduce_gives_what_the_command_gives(plugins, tmp_path):
    only = "score-copy-nearest-k2-*"  # one evaluation that trains nothing
    report = metaframe.reproduce("metapix", scale="tiny", only=only, out=tmp_path / "api")
    cli = run_cli(
        ["reproduce", "metapix", "--scale", "tiny", "--only", only, "--quiet", "--out", str(tmp_path / "cli")]
    )
    assert cli.exit_code == 0, cli.stderr
    assert report == tmp_path / "api" / "report.md" and report.is_file()
    stage = "score-copy-nearest-k2-t2-s1"
    scores = [json.loads((tmp_path / side / stage / "scores.json").read_text()) for side in ("api", "cli")]
    assert scores[0] == scores[1]
    recorded = json.loads((tmp_path / "api" / "experiment.json").read_text())["command"]
    assert recorded[:4] == ["metaframe", "reproduce", "metapix", "--scale"]  # the command this call stands for

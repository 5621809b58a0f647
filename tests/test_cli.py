import inspect
import json
import typing
from collections.abc import Callable
from typing import Any

from typer.models import OptionInfo

import metaframe
from metaframe.cli import core_app
from metaframe.testing import run_cli

SMALL = ["--meta-iterations", "3", "--k", "4", "--t", "2", "--device", "cpu", "--quiet"]


def test_run_writes_a_complete_run_folder(plugins, tmp_path):
    out = tmp_path / "run"
    result = run_cli(["run", "reptile", "--model", "mlp", "--task", "sine", *SMALL, "--seed", "7", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "finished" and record["iteration"] == 3
    assert record["config"]["settings"]["seed"] == 7 and record["config"]["preset"] == "sine"
    assert record["provenance"]["plugins"]["algorithm"] == {"name": "algorithms", "version": metaframe.__version__}
    assert [json.loads(line)["iteration"] for line in (out / "metrics.jsonl").read_text().splitlines()] == [0, 1, 2]
    assert (out / "model.safetensors").is_file() and (out / "resume.pt").is_file()
    assert "metaframe eval --init" in result.stdout


def test_eval_prints_one_row_per_init_and_writes_json(plugins, tmp_path):
    out = tmp_path / "run"
    assert run_cli(["run", "reptile", "--model", "mlp", "--task", "sine", *SMALL, "--out", str(out)]).exit_code == 0
    report = tmp_path / "eval.json"
    args = ["eval", "--init", str(out), "--init", "random", "--set", "task.eval_tasks=3", "--json", str(report)]
    result = run_cli(args)
    assert result.exit_code == 0, result.stderr
    rows = json.loads(report.read_text())["rows"]
    assert [row["init"] for row in rows] == [str(out), "random"]
    assert all(row["k"] == 4 and row["t"] == 2 and "mse" in row["metrics"] for row in rows)
    assert len(rows[0]["tasks"]) == 3
    assert "random" in result.stdout and "mse" in result.stdout


def test_eval_needs_a_model_and_task(plugins):
    result = run_cli(["eval", "--init", "random"])
    assert result.exit_code == 2 and "give --model and --task" in result.stderr


def test_incompatible_pair_is_refused_before_step_0_naming_both(plugins, tmp_path):
    args = ["run", "maml", "--model", "quadratic-plain", "--task", "points", *SMALL, "--out", str(tmp_path / "r")]
    result = run_cli(args)
    assert result.exit_code == 2
    assert "algorithm 'maml' needs the model capability functional" in result.stderr
    assert "model 'quadratic-plain'" in result.stderr
    assert not (tmp_path / "r" / "metrics.jsonl").exists()


def test_unknown_names_are_one_line_with_suggestions(plugins):
    result = run_cli(["run", "reptil", "--model", "mlp", "--task", "sine"])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "did you mean reptile" in result.stderr
    assert "unknown model 'mpl'" in run_cli(["run", "reptile", "--model", "mpl", "--task", "sine"]).stderr


def test_bad_option_values_are_one_line_exit_2(plugins):
    for args, message in [
        (["run", "reptile", "--model", "mlp", "--task", "sine", "--k", "0"], "--k"),
        (["run", "reptile", "--model", "mlp", "--task", "sine", "--set", "t=many"], "run.t must be an integer"),
        (["run", "reptile", "--model", "mlp", "--task", "sine", "--set", "algorithm.epsilon=2"], "epsilon must be"),
        (["run", "reptile", "--model", "mlp", "--task", "sine", "--set", "nonsense"], "--set expects KEY=VALUE"),
        (
            ["run", "reptile", "--model", "mlp", "--task", "sine", "--set", "model.widht=3"],
            "unknown option model.widht",
        ),
        (["run", "reptile", "--model", "mlp", "--task", "sine", "--device", "tpu"], "--device must be"),
    ]:
        result = run_cli(args)
        assert result.exit_code == 2, (args, result.stderr)
        assert message in result.stderr, (message, result.stderr)
        errors = [line for line in result.stderr.splitlines() if not line.startswith("using preset")]
        assert len(errors) == 1 and errors[0].startswith("error:"), result.stderr


def test_config_file_and_set_layers(plugins, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text("k = 3\n[algorithm]\nepsilon = 0.5\n[model]\nhidden = [8, 8]\n")
    out = tmp_path / "r"
    args = ["run", "reptile", "--model", "mlp", "--task", "sine", "--config", str(config), "--set", "t=2",
            "--meta-iterations", "2", "--quiet", "--out", str(out)]  # fmt: skip
    assert run_cli(args).exit_code == 0
    settings = json.loads((out / "run.json").read_text())["config"]
    assert settings["settings"]["k"] == 3 and settings["settings"]["t"] == 2
    assert settings["options"]["algorithm"] == {"epsilon": 0.5}


def test_every_command_explains_its_options():
    for command in ("run", "eval", "plugins"):
        result = run_cli([command, "--help"])
        assert result.exit_code == 0
        assert "Usage" in result.stdout
    text = run_cli(["run", "--help"]).stdout
    for option in ("--model", "--task", "--preset", "--config", "--set", "--meta-iterations", "--meta-batch", "--k",
                   "--t", "--init", "--out", "--seed", "--device", "--resume"):  # fmt: skip
        assert option in text, option


TRAINING_COMMANDS = ("run", "compare", "eval")
# Same flag, different meaning, so declared apart on purpose (flag: the commands left out of the comparison):
# --out is a run folder for run and a folder of run folders for compare; --resume continues one run or a
# whole comparison; eval's --init is repeatable and also names inits that are no file (random, references);
# eval's --k, --t and --seed apply to held-out tasks only and default to its first run folder's.
DECLARED_APART = {
    "--out": {"run", "compare"},
    "--resume": {"run", "compare"},
    **{flag: {"eval"} for flag in ("--init", "--k", "--t", "--seed")},
}


def declarations(command: Callable[..., None]) -> dict[str, tuple[Any, dict[str, Any]]]:
    """Each option of ``command`` by its first flag: its type and everything its declaration says
    (help, flags, bounds, metavar ...), whether written inline or through a shared alias."""
    hints = typing.get_type_hints(command, include_extras=True)
    found = {}
    for name, parameter in inspect.signature(command).parameters.items():
        metadata = getattr(hints[name], "__metadata__", ())
        info = next((item for item in metadata if isinstance(item, OptionInfo)), parameter.default)
        if isinstance(info, OptionInfo):  # inside Annotated, typer takes the first flag in the place of a default
            flag = next(d for d in (info.default, *info.param_decls) if isinstance(d, str) and d.startswith("--"))
            hint = typing.get_args(hints[name])[0] if metadata else hints[name]
            found[flag] = (hint, {k: v for k, v in vars(info).items() if k != "default" or metadata})
    return found


def test_shared_options_are_declared_once_and_read_alike_in_every_command():
    callbacks = {command.name: command.callback for command in core_app().registered_commands}
    options = {name: declarations(callbacks[name]) for name in TRAINING_COMMANDS}
    for flag in ("--model", "--task", "--k", "--t", "--seed", "--config", "--set", "--device"):
        assert all(flag in options[name] for name in TRAINING_COMMANDS), flag
    compared = 0
    for flag in sorted(set().union(*options.values())):
        apart = DECLARED_APART.get(flag, set())
        seen = {name: own[flag] for name, own in options.items() if flag in own and name not in apart}
        if len(seen) < 2:
            continue
        first = next(iter(seen.values()))
        assert all(other == first for other in seen.values()), f"{flag} is declared differently in {', '.join(seen)}"
        assert first[1]["help"], f"{flag} has no help"
        compared += 1
    assert compared == 14  # the eight above, --preset (run, eval), --meta-*, --init, --quiet (run, compare), --json


def test_compare_trains_each_algorithm_and_evaluates_all(plugins, tmp_path):
    args = ["compare", "reptile", "pretrain", "--model", "mlp", "--task", "sine", "--meta-iterations", "2",
            "--k", "3", "--t", "2", "--set", "task.eval_tasks=2", "--quiet", "--out", str(tmp_path)]  # fmt: skip
    result = run_cli(args)
    assert result.exit_code == 0, result.stderr
    rows = json.loads((tmp_path / "compare.json").read_text())["rows"]
    assert [row["init"] for row in rows] == [str(tmp_path / "reptile"), str(tmp_path / "pretrain"), "random"]
    budgets = [
        json.loads((tmp_path / a / "run.json").read_text())["config"]["settings"] for a in ("reptile", "pretrain")
    ]
    assert budgets[0] == budgets[1]

"""Inner learning-rate schedules: named for what they do; ``paper``, the old name of
``hold-then-decay``, was removed in 0.2.0 and says so wherever it is given (``--set``, a config file,
an old run folder's ``run.json``)."""

import json

import pytest

from metaframe.config import INNER_SCHEDULES, Config, Settings, differences
from metaframe.errors import UsageError
from metaframe.loop import inner_lr_factor
from metaframe.testing import run_cli


def factors(schedule: str, total: int) -> list[float]:
    return [inner_lr_factor(i, total, schedule) for i in range(total)]


def test_each_schedule_does_what_its_name_says():
    assert factors("hold-then-decay", 4) == [1.0, 1.0, 1.0, 0.5]
    assert factors("hold-then-decay", 6) == [1.0, 1.0, 1.0, 1.0, 2 / 3, 1 / 3]
    assert factors("linear", 4) == [1.0, 0.75, 0.5, 0.25]
    assert factors("constant", 4) == [1.0] * 4
    assert set(INNER_SCHEDULES) == {"hold-then-decay", "linear", "constant"}


def test_hold_then_decay_is_the_default_everywhere():
    assert Settings().inner_schedule == "hold-then-decay"
    assert factors("hold-then-decay", 10) == [inner_lr_factor(i, 10) for i in range(10)]


REMOVED = "inner_schedule 'paper' was removed in 0.2.0; use hold-then-decay"


def test_paper_was_removed_and_says_what_replaced_it():
    with pytest.raises(UsageError) as refused:
        Settings(inner_schedule="paper")
    assert str(refused.value) == REMOVED
    with pytest.raises(UsageError, match="was removed in 0.2.0; use hold-then-decay"):
        inner_lr_factor(0, 4, "paper")


def test_an_unknown_schedule_is_refused_naming_the_known_ones():
    with pytest.raises(UsageError, match="inner_schedule must be hold-then-decay, constant, linear, got 'fast'"):
        Settings(inner_schedule="fast")


def test_an_unknown_schedule_is_refused_by_the_schedule_itself_too():
    with pytest.raises(UsageError, match="got 'fast'"):
        inner_lr_factor(0, 4, "fast")


def test_a_run_record_that_says_paper_is_refused_naming_the_replacement():
    old = Config("reptile", "mlp", "sine").to_json()
    old["settings"]["inner_schedule"] = "paper"
    with pytest.raises(UsageError, match=REMOVED):
        Config.from_json(old)
    today = Config("reptile", "mlp", "sine")
    assert differences(Config.from_json(today.to_json()), today) == []


@pytest.mark.parametrize("where", ["set", "config"])
def test_paper_on_the_command_line_is_one_line_exit_2(plugins, tmp_path, where):
    (tmp_path / "old.toml").write_text('inner_schedule = "paper"\n')
    given = ["--set", "inner_schedule=paper"] if where == "set" else ["--config", str(tmp_path / "old.toml")]
    result = run_cli(["run", "reptile", "--model", "quadratic", "--task", "points", "--meta-iterations", "1",
                      "--quiet", "--out", str(tmp_path / "run"), *given])  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert result.stderr.strip() == f"error: {REMOVED}"
    assert not (tmp_path / "run").exists()


def test_an_old_run_that_says_paper_is_refused_on_resume(plugins, tmp_path):
    out = tmp_path / "run"
    common = ["--k", "4", "--t", "2", "--device", "cpu", "--quiet", "--out", str(out)]
    first = run_cli(["run", "reptile", "--model", "quadratic", "--task", "points", "--meta-iterations", "2", *common])
    assert first.exit_code == 0, first.stderr
    record = json.loads((out / "run.json").read_text())
    assert record["config"]["settings"]["inner_schedule"] == "hold-then-decay"
    record["config"]["settings"]["inner_schedule"] = "paper"  # as a run from before the rename wrote it
    record["status"] = "interrupted"
    (out / "run.json").write_text(json.dumps(record))
    resumed = run_cli(["run", "reptile", "--model", "quadratic", "--task", "points", "--meta-iterations", "3",
                       *common, "--resume"])  # fmt: skip
    assert resumed.exit_code == 2, resumed.stderr
    assert resumed.stderr.strip().splitlines()[-1].endswith(REMOVED), resumed.stderr
    assert json.loads((out / "run.json").read_text())["iteration"] == 2

"""Inner learning-rate schedules: named for what they do; ``paper``, the old name of
``hold-then-decay``, is still read (old run folders, config files, ``--resume`` of an old run)."""

import json

import pytest

from metaframe.config import INNER_SCHEDULES, RunConfig, RunSettings, differences
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
    assert RunSettings().inner_schedule == "hold-then-decay"
    assert factors("hold-then-decay", 10) == [inner_lr_factor(i, 10) for i in range(10)]


@pytest.mark.parametrize("total", [1, 2, 5, 20])
def test_paper_is_an_alias_of_hold_then_decay(total):
    assert factors("paper", total) == factors("hold-then-decay", total)
    assert RunSettings(inner_schedule="paper").inner_schedule == "hold-then-decay"


def test_an_unknown_schedule_is_refused_naming_the_known_ones():
    with pytest.raises(UsageError, match="inner_schedule must be hold-then-decay, constant, linear, got 'fast'"):
        RunSettings(inner_schedule="fast")


def test_an_old_run_record_differs_in_nothing_from_the_same_run_today():
    old = RunConfig("reptile", "mlp", "sine").to_json()
    old["settings"]["inner_schedule"] = "paper"
    assert differences(RunConfig.from_json(old), RunConfig("reptile", "mlp", "sine")) == []


def test_an_old_run_that_says_paper_resumes(plugins, tmp_path):
    out = tmp_path / "run"
    common = ["--k", "4", "--t", "2", "--device", "cpu", "--quiet", "--out", str(out)]
    first = run_cli(["run", "reptile", "--model", "mlp", "--task", "sine", "--meta-iterations", "2", *common])
    assert first.exit_code == 0, first.stderr
    record = json.loads((out / "run.json").read_text())
    assert record["config"]["settings"]["inner_schedule"] == "hold-then-decay"
    record["config"]["settings"]["inner_schedule"] = "paper"  # as a run from before the rename wrote it
    record["status"] = "interrupted"
    (out / "run.json").write_text(json.dumps(record))
    resumed = run_cli(["run", "reptile", "--model", "mlp", "--task", "sine", "--meta-iterations", "3", *common,
                       "--resume", "--set", "inner_schedule=paper"])  # fmt: skip
    assert resumed.exit_code == 0, resumed.stderr
    assert json.loads((out / "run.json").read_text())["iteration"] == 3

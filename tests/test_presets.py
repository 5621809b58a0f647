"""Presets and experiments are checked: a preset when a plugin registers it (its shape, its settings) and
whenever it is used (its names are registered, its option tables parse as those plugins declare them);
both in the contract sweep (:func:`metaframe.testing.check_preset`, :func:`~metaframe.testing.check_experiment`)."""

from __future__ import annotations

import pytest

from metaframe.api import Preset, hookimpl
from metaframe.errors import UsageError
from metaframe.experiment import Score, Train
from metaframe.plugins import load_plugins
from metaframe.testing import check_experiment, check_preset, run_cli
from tests.plugins import quadratic


class Mine:
    """A plugin registering the presets and experiments it is given."""

    def __init__(self, presets=None, experiments=None) -> None:
        self.presets, self.experiments = presets or {}, experiments or {}

    @hookimpl
    def register_presets(self, register):
        for name, preset in self.presets.items():
            register(name, preset, "A fixture preset.")

    @hookimpl
    def register_experiments(self, register):
        for name, factory in self.experiments.items():
            register(name, factory, "A fixture experiment.")


def loaded(**given):
    return load_plugins(extra=[("quadratic", quadratic), ("mine", Mine(**given))])


WRONG_TABLES = {
    "misspelt": (
        Preset(None, "quadratic", "points", {}, {"model": {"lrr": 0.5}}),
        "preset 'misspelt': unknown option model.lrr; did you mean model.lr?",
    ),
    "mistyped": (Preset(None, "quadratic", "points", {}, {"task": {"dim": "three"}}), "preset 'mistyped': .*task.dim"),
    "bad-value": (Preset(None, "quadratic", "points", {}, {"model": {"lr": -1}}), "preset 'bad-value': .*lr must be"),
    "lost-task": (
        Preset(None, "quadratic", "pointz"),
        "preset 'lost-task': unknown task 'pointz'; did you mean points",
    ),
    "lost-algorithm": (Preset("reptil", "quadratic", "points"), "preset 'lost-algorithm': unknown algorithm 'reptil'"),
}


@pytest.mark.parametrize("name", list(WRONG_TABLES))
def test_a_preset_with_a_wrong_option_or_name_fails_the_contract_check(name):
    preset, message = WRONG_TABLES[name]
    with pytest.raises(UsageError, match=message):
        check_preset(loaded(presets={name: preset}), name)


def test_a_misspelt_preset_fails_the_run_in_one_line_naming_the_preset(tmp_path):
    plugins = loaded(presets={"misspelt": WRONG_TABLES["misspelt"][0]})
    args = ["run", "reptile", "--model", "quadratic", "--task", "points", "--preset", "misspelt"]
    result = run_cli([*args, "--quiet", "--out", str(tmp_path / "run")], plugins)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.strip() == "error: preset 'misspelt': unknown option model.lrr; did you mean model.lr?"
    assert not (tmp_path / "run").exists()


def test_a_good_preset_passes_and_is_used(tmp_path):
    plugins = loaded(presets={"good": Preset(None, "quadratic", "points", {"k": 2, "t": 1}, {"model": {"lr": 0.5}})})
    check_preset(plugins, "good")
    args = ["run", "reptile", "--model", "quadratic", "--task", "points", "--meta-iterations", "1"]
    result = run_cli([*args, "--quiet", "--device", "cpu", "--out", str(tmp_path / "run")], plugins)
    assert result.exit_code == 0, result.stderr


REFUSED_AT_REGISTRATION = {
    "not a Preset": ({"model": "quadratic"}, "which is a dict, not a metaframe.api.Preset"),
    "unknown setting": (Preset(None, "quadratic", "points", {"kk": 5}), "settings: unknown option run.kk"),
    "bad setting": (Preset(None, "quadratic", "points", {"k": 0}), "settings: k must be at least 1"),
    "unknown table": (Preset(None, "quadratic", "points", {}, {"modle": {}}), "has option table 'modle'"),
    "algorithm options for any algorithm": (
        Preset(None, "quadratic", "points", {}, {"algorithm": {"epsilon": 0.5}}),
        "sets algorithm options but is for any algorithm",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED_AT_REGISTRATION))
def test_a_malformed_preset_fails_its_plugin_when_it_registers(case):
    preset, message = REFUSED_AT_REGISTRATION[case]
    plugins = loaded(presets={"broken": preset})
    info = plugins.info("mine")
    assert info.status == "failed" and "registers preset 'broken', which " in info.error
    assert message in info.error and "broken" not in plugins.presets


class Plan:
    """An experiment of one training and one evaluation on the points task, with ``assignments``."""

    scales = ("tiny",)

    def __init__(self, assignments: tuple[str, ...]) -> None:
        self.assignments = assignments

    def sweeps(self, scale):
        return (2,), (1,)

    def plan(self, request, held_out):
        assert held_out("quadratic", "points", ("k=2",)), "the probe draws held-out tasks"
        train = Train("train", "reptile", "quadratic", "points", ("k=2", "t=1", *self.assignments))
        return [train, Score("score", train, "quadratic", "points", ("k=2", *self.assignments))]

    def report(self, request, results):
        return ""


def test_an_experiment_whose_stage_sets_a_misspelt_option_fails_the_contract_check():
    plugins = loaded(experiments={"good": lambda: Plan(("model.lr=0.5",)), "typo": lambda: Plan(("model.lrr=0.5",))})
    check_experiment(plugins, "good")
    with pytest.raises(AssertionError, match="typo tiny, stage train: unknown option model.lrr"):
        check_experiment(plugins, "typo")

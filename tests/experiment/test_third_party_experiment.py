"""An experiment is a plugin's like any other: registered through ``register_experiments``, it is listed,
planned, run and reported by the engine, which knows nothing of MetaPix (here: Reptile on the sine toy)."""

from __future__ import annotations

import json

from metaframe.api import Request, Results, Score, Train, hookimpl
from metaframe.plugins import load_plugins
from metaframe.testing import run_cli

SINE = ("meta_iterations=2", "meta_batch=2", "k=3", "t=1", "task.eval_tasks=2", "device=cpu")


class SineCheck:
    """Reptile against fresh weights on the sine toy."""

    scales = ("quick",)

    def sweeps(self, scale):
        return (3,), (1,)

    def plan(self, request: Request, held_out):
        assert len(held_out("mlp", "sine", SINE)) == 2  # the probe gives eval's held-out tasks
        trained = Train("reptile", "reptile", "mlp", "sine", SINE, about="Reptile on sine waves")
        return [
            trained,
            *(Score(f"score-{s}", trained, "mlp", "sine", (*SINE, f"seed={s}"), "eval") for s in request.seeds),
            Score("score-random", "random", "mlp", "sine", SINE, "fresh weights"),
        ]

    def report(self, request: Request, results: Results) -> str:
        learned = results.result("score-1")["metrics"]
        fresh = results.result("score-random")["metrics"]
        return "# Sine check\n\n" + "\n".join(f"- {m}: {learned[m]:.4g} vs {fresh[m]:.4g}" for m in learned)


class Plugin:
    @hookimpl
    def register_experiments(self, register):
        register("sine-check", SineCheck, "Reptile on sine waves, against fresh weights")


def test_a_plugin_registers_runs_and_reports_its_own_experiment(tmp_path):
    plugins = load_plugins(extra=[("sine-check", Plugin())])
    listed = run_cli(["reproduce", "--list"], plugins)
    assert "sine-check" in listed.stdout and "quick" in listed.stdout
    out = tmp_path / "sine"
    result = run_cli(["reproduce", "sine-check", "--seeds", "2", "--out", str(out), "--quiet"], plugins)
    assert result.exit_code == 0, result.stderr
    report = (out / "report.md").read_text()
    assert report.startswith("# Sine check") and "## How this report was made" in report
    assert "metaframe run reptile --model mlp --task sine" in report and "seeds 1, 2" in report
    assert json.loads((out / "reptile" / "run.json").read_text())["status"] == "finished"
    assert json.loads((out / "score-2" / "stage.json").read_text())["result"]["init"] == str(out / "reptile")
    refused = run_cli(["reproduce", "sine-check", "--scale", "paper", "--out", str(tmp_path / "x")], plugins)
    assert refused.exit_code == 2 and "choose quick" in refused.stderr

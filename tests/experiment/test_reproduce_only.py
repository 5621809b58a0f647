"""``--only`` runs some stages (and those they use) first, with the numbers a whole run gives; the same
command without it finishes the rest; ``--plan`` lists the stages and runs nothing."""

from __future__ import annotations

import json

from metaframe.testing import run_cli
from tests.experiment.conftest import reproduce

K1 = "score-*-k1-t2-s1"  # Figure 2's K = 1 points: they use pretrain, metapix-s1 and metapix-k1
K1_STAGES = {"pretrain", "metapix-s1", "metapix-k1"} | {
    f"score-{init}-k1-t2-s1"
    for init in ("warp", "copy-nearest", "mean-support", "random", "pretrain", "metapix-s1", "metapix-k1")
}


def finished(out):
    return {path.parent.name for path in out.glob("*/stage.json")}


def test_only_runs_the_matching_stages_then_the_same_command_finishes(tmp_path, tiny_report):
    out = tmp_path / "tiny"
    first = reproduce(out, "--only", K1)
    assert first.exit_code == 0, first.stderr
    assert finished(out) == K1_STAGES
    report = (out / "report.md").read_text()
    assert f"**Partial report**: {len(K1_STAGES)} of 30 stages" in report
    assert "--only" not in report.split("## How this report was made")[1].splitlines()[2]  # the whole command
    whole = json.loads((tiny_report / "results.json").read_text())["figure2"]
    points = json.loads((out / "results.json").read_text())["figure2"]
    assert points["series"]["MetaPix (trained at each K)"]["psnr"][0] == whole["series"][
        "MetaPix (trained at each K)"]["psnr"][0]  # fmt: skip

    records = {path: path.stat().st_mtime_ns for path in out.glob("*/stage.json")}
    rest = reproduce(out)
    assert rest.exit_code == 0, rest.stderr
    assert {path: path.stat().st_mtime_ns for path in records} == records  # not redone
    assert len(finished(out)) == 30 and "Partial report" not in (out / "report.md").read_text()
    assert json.loads((out / "results.json").read_text())["table1"] == json.loads(
        (tiny_report / "results.json").read_text())["table1"]  # fmt: skip


def test_plan_lists_every_stage_and_what_has_finished(tmp_path, tiny_report):
    result = run_cli(
        ["reproduce", "metapix", "--scale", "tiny", "--plan", "--only", K1, "--out", str(tmp_path / "new")]
    )
    assert result.exit_code == 0, result.stderr
    assert "30 stages" in result.stdout and result.stdout.count("to run") == len(K1_STAGES)
    assert "not in --only" in result.stdout and not (tmp_path / "new").exists()
    done = run_cli(["reproduce", "metapix", "--scale", "tiny", "--plan", "--out", str(tiny_report)])
    assert done.exit_code == 0 and done.stdout.count("finished") == 30


def test_a_pattern_that_matches_no_stage_is_refused(tmp_path):
    result = reproduce(tmp_path / "out", "--only", "score-*,metapx-*")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --only metapx-*: no stage of this plan is called so; --plan lists their names"
    )
    assert not (tmp_path / "out").exists()

"""``metaframe reproduce metapix --scale tiny``: every stage is a folder with its record, the report holds
every table and figure the issue names, the numbers are the stages' own, and a rerun redoes nothing."""

from __future__ import annotations

import csv
import json

import numpy as np
from PIL import Image

from metaframe.testing import run_cli
from tests.experiment.conftest import reproduce

TABLE1 = ["warp (learns nothing)",
          "copy-nearest (learns nothing)", "mean-support (learns nothing)", "Random, K = ∞", "Pretrain, K = ∞",
          "Random", "Pretrain", "Pretrain at equal compute", "MetaPix"]  # fmt: skip
METRICS = {"ssim", "psnr", "mse", "person_ssim", "person_psnr", "person_mse"}


def test_every_stage_is_a_finished_folder(tiny_report):
    plan = json.loads((tiny_report / "experiment.json").read_text())
    assert plan["request"] == {"experiment": "metapix", "scale": "tiny", "seeds": [1], "ks": [1, 2], "ts": [1, 2]}
    for name in plan["stages"]:
        record = json.loads((tiny_report / name / "stage.json").read_text())
        assert record["name"] == name and record["wall_s"] >= 0 and record["command"].startswith(("metaframe", "("))
        if record["kind"] == "train":  # a run folder like any other, finished
            assert json.loads((tiny_report / name / "run.json").read_text())["status"] == "finished"
            assert (tiny_report / name / "model.safetensors").is_file()
    assert {"pretrain", "metapix-s1", "pretrain-equal-s1", "metapix-k1", "metapix-t1", "metapix-epsilon-0.1",
            "metapix-generator-only", "temporal"} <= set(plan["stages"])  # fmt: skip


def test_table1_is_the_mean_of_the_stages_scores(tiny_report):
    results = json.loads((tiny_report / "results.json").read_text())
    assert list(results["table1"]) == TABLE1
    for row in results["table1"].values():
        assert set(row) == METRICS
    metapix = json.loads((tiny_report / "score-metapix-s1-k2-t2-s1" / "scores.json").read_text())["rows"][0]
    assert results["table1"]["MetaPix"]["psnr"]["mean"] == metapix["metrics"]["psnr"]
    assert metapix["init"] == str(tiny_report / "metapix-s1") and (metapix["k"], metapix["t"]) == (2, 2)
    upper = json.loads((tiny_report / "score-pretrain-k20-t3-s1" / "stage.json").read_text())["result"]
    assert upper["k"] == 20  # K = ∞: every frame before the split of a 24-frame shot


def test_report_holds_tables_figures_commands_and_versions(tiny_report):
    report = (tiny_report / "report.md").read_text()
    for heading in ("## Table 1", "## Figure 2", "## Figure 5", "## Ablations", "## Figure 3", "## How this report"):
        assert heading in report
    assert "metaframe run reptile --model pose2im --task video-shot" in report
    assert "--init copy-nearest" in report and "torch 2." in report and "seeds 1" in report
    assert "MetaPix − Pretrain at equal compute" in report and "the paper's margins" in report
    for link in ("fig2-k.png", "fig5-t.png", "temporal/strip.png", "temporal/frames.mp4"):
        assert link in report and (tiny_report / link).is_file()


def test_sweeps_come_as_json_csv_and_a_picture(tiny_report):
    data = json.loads((tiny_report / "fig2-k.json").read_text())
    assert data["x"] == "K" and data["values"] == [1, 2]
    assert {
        "Pretrain",
        "Random",
        "warp",
        "copy-nearest",
        "mean-support",
        "MetaPix (trained at K=2)",
        "MetaPix (trained at each K)",
    } == set(data["series"])
    assert all(None not in values for series in data["series"].values() for values in series.values())
    rows = list(csv.DictReader((tiny_report / "fig5-t.csv").open()))
    assert len(rows) == 2 * 7 and set(rows[0]) == {"T", "series", *METRICS}
    picture = np.asarray(Image.open(tiny_report / "fig2-k.png").convert("L"))
    assert picture.shape[1] > 600 and picture.std() > 10  # six panels drawn, not a blank page


def test_temporal_strip_rows_are_real_pretrain_metapix(tiny_report):
    record = json.loads((tiny_report / "temporal" / "stage.json").read_text())["result"]
    assert record["labels"] == ["real", "Pretrain", "MetaPix"] and record["frames"] == 4  # 24 - 20 held out
    for scores in record["scores"].values():
        assert scores["temporal_std"] >= 0 and scores["temporal_std_real"] >= 0
    strip = np.asarray(Image.open(tiny_report / "temporal" / "strip.png"))
    assert strip.shape[0] == 3 * 32 + 2 * 2  # three rows of 32 px frames


def test_rerun_skips_every_finished_stage(tiny_report):
    before = (tiny_report / "results.json").read_text()
    records = {path: path.stat().st_mtime_ns for path in tiny_report.glob("*/stage.json")}
    weights = {path: path.stat().st_mtime_ns for path in tiny_report.glob("*/model.safetensors")}
    result = reproduce(tiny_report)
    assert result.exit_code == 0, result.stderr
    assert (tiny_report / "results.json").read_text() == before
    # nothing was redone: no stage record and no run's weights were written again
    assert {path: path.stat().st_mtime_ns for path in records} == records and len(records) > 20
    assert {path: path.stat().st_mtime_ns for path in weights} == weights and len(weights) == 7
    assert "meta-iteration" not in result.stderr


def test_list_names_the_experiment_and_its_scales():
    result = run_cli(["reproduce", "--list"])
    assert result.exit_code == 0 and "metapix" in result.stdout and "tiny" in result.stdout

"""Every mistake ``metaframe reproduce`` can meet is one line, exit 2, and writes nothing."""

from __future__ import annotations

import json

import pytest

from metaframe.testing import run_cli


def refused(args, out):
    result = run_cli(["reproduce", *args, "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()  # (the first use of a world may say it renders its dancers)
    assert [line for line in lines if line.startswith("error:")] == lines[-1:], result.stderr
    return lines[-1]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["metapx"], "did you mean metapix"),
        (["metapix", "--scale", "huge"], "choose small, tiny, paper"),
        (["metapix", "--scale", "tiny", "--ks", "1,0"], "'0' is not a positive whole number"),
        (["metapix", "--scale", "tiny", "--ks", "1,x"], "'x' is not a positive whole number"),
        (["metapix", "--scale", "tiny", "--ts", "2.5"], "'2.5' is not a positive whole number"),
        (["metapix", "--scale", "tiny", "--ts", "2,2"], "names a value twice"),
        (["metapix", "--scale", "tiny", "--ks", "1,21"], "has only 20 frames before its 85 % split"),
        ([], "name the experiment"),
    ],
)
def test_refused_before_anything_is_written(tmp_path, args, says):
    out = tmp_path / "out"
    assert says in refused(args, out)
    assert not out.exists()


def test_a_folder_of_another_experiment_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    request = {"experiment": "other", "scale": "tiny", "seeds": [1], "ks": [1], "ts": [1]}
    (out / "experiment.json").write_text(json.dumps({"request": request}))
    assert "holds the stages of experiment 'other'" in refused(["metapix", "--scale", "tiny"], out)
    assert sorted(p.name for p in out.iterdir()) == ["experiment.json"]


def test_a_folder_of_another_scale_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    request = {"experiment": "metapix", "scale": "small", "seeds": [1], "ks": [1, 5, 10, 20], "ts": [5, 10, 20, 40]}
    (out / "experiment.json").write_text(json.dumps({"request": request}))
    assert "holds metapix with scale small, not tiny" in refused(["metapix", "--scale", "tiny"], out)


def test_a_folder_of_other_files_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert "not an experiment's stages" in refused(["metapix", "--scale", "tiny"], out)

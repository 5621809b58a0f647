"""The eval table names each init so that two rows never read the same."""

from __future__ import annotations

from metaframe.cli.eval_cmd import short_inits


def test_weights_files_of_the_same_name_are_told_apart_by_their_folders(tmp_path):
    files = []
    for run in ("long", "short"):
        (tmp_path / run).mkdir()
        files.append(tmp_path / run / "model.safetensors")
        files[-1].write_bytes(b"")
    other = tmp_path / "small.safetensors"
    other.write_bytes(b"")
    labels = short_inits([str(other), *map(str, files), "copy-nearest"])
    assert labels == ["small.safetensors", "long/model.safetensors", "short/model.safetensors", "copy-nearest"]


def test_run_folders_keep_their_last_two_parts_unless_they_clash(tmp_path):
    inits = [str(tmp_path / "a" / "runs" / "x"), str(tmp_path / "b" / "runs" / "x"), str(tmp_path / "runs" / "y")]
    assert short_inits(inits) == ["a/runs/x", "b/runs/x", "runs/y"]

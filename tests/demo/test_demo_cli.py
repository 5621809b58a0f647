"""``metaframe demo``'s command line: the missing extra and a bad ``--init`` are one line each (exit 2), the
help says what the page does; the shipped model's run folder holds its weights (slow: it may render the world)."""

from __future__ import annotations

import importlib.util
import json

import pytest
import torch
from safetensors.torch import load_file

import metaframe
from metaframe.testing import run_cli
from metaframe_pose2im.weights import pretrained_file
from metaframe_video.demo import cli as demo_cli

FIND_SPEC = importlib.util.find_spec


def pretend_gradio(present: bool):
    """``find_spec`` that answers for Gradio as told, and as usual for everything else."""
    return lambda name, *rest: (FIND_SPEC("json") if present else None) if name == "gradio" else FIND_SPEC(name, *rest)


def test_without_the_extra_the_command_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", pretend_gradio(False))
    result = run_cli(["demo"])
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == 'error: metaframe demo needs the demo extra: pip install "metaframe[demo]" (or -e ".[demo]")'
    )


def test_a_folder_without_a_run_is_refused_before_serving(monkeypatch, tmp_path):
    monkeypatch.setattr(importlib.util, "find_spec", pretend_gradio(True))
    result = run_cli(["demo", "--init", str(tmp_path / "nothing")])
    assert result.exit_code == 2 and "does not exist; give the run folder of a trained model" in result.stderr


def test_a_run_whose_model_cannot_render_is_refused_before_serving(monkeypatch, tmp_path):
    monkeypatch.setattr(importlib.util, "find_spec", pretend_gradio(True))
    sine = metaframe.run("reptile", model="mlp", task="sine", meta_iterations=0, out=tmp_path / "sine")
    result = run_cli(["demo", "--init", str(sine.path)])
    assert result.exit_code == 2 and "model 'mlp' does not render images from poses" in result.stderr


def test_the_help_says_what_the_page_does():
    result = run_cli(["demo", "--help"])
    assert result.exit_code == 0
    for said in ("--init", "--host", "127.0.0.1", "--port", "--max-frames", "Retarget", "Ctrl-C"):
        assert said in result.stdout, said


@pytest.mark.slow
def test_the_shipped_model_becomes_a_run_folder_of_its_weights(tmp_path):
    folder = demo_cli.shipped_model_run(tmp_path / "shipped")
    record = json.loads((folder / "run.json").read_text())
    assert record["status"] == "finished" and record["config"]["settings"]["meta_iterations"] == 0
    made, shipped = load_file(folder / "model.safetensors"), load_file(pretrained_file("small"))
    assert made.keys() == shipped.keys() and all(torch.equal(made[n], shipped[n]) for n in made)

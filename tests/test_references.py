"""The reference rows that learn nothing (copy-nearest, mean-support): their predictions, and eval's use
of them beside learned inits, with person-region scores; a task without images is refused in one line."""

from __future__ import annotations

import json

import torch

from metaframe.testing import run_cli
from metaframe_pose2im.references import copy_nearest, mean_support
from tests.video.conftest import TINY


def batch(positions: list[float], colours: list[float]) -> dict[str, torch.Tensor]:
    """Frames of one flat colour each, with one keypoint at (position, 0)."""
    keypoints = torch.tensor([[[x, 0.0, 1.0]] for x in positions])
    image = torch.tensor(colours).view(-1, 1, 1, 1).expand(-1, 3, 4, 4)
    return {"pose": torch.zeros(len(positions), 1, 4, 4), "image": image, "keypoints": keypoints}


def test_copy_nearest_copies_the_support_frame_of_nearest_pose():
    support, query = batch([0, 10, 20], [-1.0, 0.0, 1.0]), batch([19, 1, 11], [0.5, 0.5, 0.5])
    assert copy_nearest(support, query)[:, 0, 0, 0].tolist() == [1.0, -1.0, 0.0]


def test_mean_support_is_the_same_mean_frame_for_every_query():
    support, query = batch([0, 10], [-1.0, 0.5]), batch([3, 4, 5], [0.0, 0.0, 0.0])
    predicted = mean_support(support, query)
    assert predicted.shape == query["image"].shape and torch.allclose(predicted, torch.full_like(predicted, -0.25))


def test_eval_scores_references_beside_a_learned_init_full_frame_and_in_the_person_box(tmp_path):
    sets = ["--set=model.scale=tiny", "--set=model.init=none", *[f"--set=task.{k}={v}" for k, v in TINY.items()]]
    inits = ["--init", "random", "--init", "copy-nearest", "--init", "mean-support"]
    result = run_cli(["eval", *inits, "--model", "pose2im", "--task", "video-shot", "--k", "2", "--t", "1",
                      *sets, "--device", "cpu", "--json", str(tmp_path / "eval.json")])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = json.loads((tmp_path / "eval.json").read_text())["rows"]
    assert [row["init"] for row in rows] == ["random", "copy-nearest", "mean-support"]
    for row in rows:
        assert {"ssim", "psnr", "mse", "person_ssim", "person_psnr", "person_mse"} <= set(row["metrics"])
    assert rows[1]["metrics"] != rows[2]["metrics"]
    table_lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert max(len(line) for line in table_lines) <= 80
    assert "copy-nearest" in result.stdout and "p.ssim" in result.stdout


def test_a_reference_on_a_task_without_images_is_one_clear_line():
    result = run_cli(["eval", "--init", "copy-nearest", "--model", "mlp", "--task", "sine", "--t", "1"])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "images and poses" in errors[0] and "x, y" in errors[0]


def test_rows_without_weights_ignore_the_weights_the_configuration_names():
    # no weights ship for the tiny scale: building with model.init=pretrained would be refused
    sets = ["--set=model.scale=tiny", "--set=model.init=pretrained", *[f"--set=task.{k}={v}" for k, v in TINY.items()]]
    inits = ["--init", "random", "--init", "copy-nearest", "--init", "mean-support"]
    result = run_cli(["eval", *inits, "--model", "pose2im", "--task", "video-shot", "--k", "2",
                      "--t", "1", *sets, "--device", "cpu"])  # fmt: skip
    assert result.exit_code == 0, result.stderr

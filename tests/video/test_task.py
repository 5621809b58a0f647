"""The video-shot task: the contract, the 85:15 split, held-out identities, real dataset folders, errors."""

from dataclasses import fields
from pathlib import Path

import pytest
import torch
from PIL import Image

from metaframe.config import parse_options
from metaframe.errors import UsageError
from metaframe.plugins import load_plugins
from metaframe.testing import check_sampler, run_cli
from metaframe_video import preview
from metaframe_video.retarget import shots
from metaframe_video.synthetic.world import SyntheticConfig
from metaframe_video.task import pose
from metaframe_video.task import video_shot as video_task
from metaframe_video.task.splits import support_end
from metaframe_video.task.video_shot import VideoShotOptions
from tests.video.conftest import TINY, make_dataset


def build(options, k):
    """The sampler with its data loaded, as the engine leaves it before the first task."""
    sampler = video_task.build(parse_options(VideoShotOptions, options, "task"), k)
    sampler.load()
    return sampler


def test_the_sampler_keeps_the_task_contract(tiny_sampler):
    check_sampler(tiny_sampler(k=2), 2)
    check_sampler(tiny_sampler(k=5, limbs=True), 5)


def test_it_is_registered_under_video_shot():
    entry = load_plugins().tasks.get("video-shot")
    assert entry.factory is shots.build and entry.test_options == TINY  # the task that also reads footage
    assert issubclass(shots.FootageShotTasks, video_task.VideoShotTasks)


def test_info_describes_the_batches(tiny_sampler):
    for limbs in (False, True):
        sampler = tiny_sampler(k=3, limbs=limbs)
        info = sampler.info
        assert info == {"in_channels": pose.channels(limbs), "size": 32, "keypoints": "coco17", "limbs": limbs}
        task = sampler.sample(torch.Generator().manual_seed(0))
        assert task.support["pose"].shape == (3, info["in_channels"], 32, 32)
        assert task.support["image"].shape == (3, 3, 32, 32) and task.query["image"].shape == (TINY["query"], 3, 32, 32)
        for batch in (task.support, task.query):
            assert batch["pose"].dtype == batch["image"].dtype == torch.float32
            assert batch["pose"].min() >= 0 and batch["pose"].max() <= 1
            assert batch["image"].min() >= -1 and batch["image"].max() <= 1


def test_support_and_query_never_overlap(tiny_sampler):
    sampler = tiny_sampler(k=5)
    generator = torch.Generator().manual_seed(0)
    for _ in range(40):
        meta = sampler.sample(generator).meta
        end = support_end(meta["frames"])
        assert len(set(meta["support"])) == 5 and len(set(meta["query"])) == TINY["query"]
        assert max(meta["support"]) < end <= min(meta["query"]) and max(meta["query"]) < meta["frames"]
    for task in sampler.eval_tasks():
        end = support_end(task.meta["frames"])
        assert max(task.meta["support"]) < end <= min(task.meta["query"])


def test_tasks_are_deterministic_in_the_generator(tiny_sampler):
    sampler = tiny_sampler()
    first, again = (sampler.sample(torch.Generator().manual_seed(7)) for _ in range(2))
    assert first.name == again.name and first.meta == again.meta
    assert all(torch.equal(first.query[key], again.query[key]) for key in first.query)
    metas = {str(sampler.sample(torch.Generator().manual_seed(seed)).meta) for seed in range(10)}
    assert len(metas) > 5


def test_evaluation_tasks_are_fixed_and_their_people_never_train(tiny_sampler):
    sampler, other = tiny_sampler(), tiny_sampler()
    evals = sampler.eval_tasks()
    assert [t.name for t in evals] == ["eval-000/shot-000", "eval-001/shot-000"]
    for mine, theirs in zip(evals, other.eval_tasks(), strict=True):
        assert mine.meta == theirs.meta and torch.equal(mine.support["image"], theirs.support["image"])
    generator = torch.Generator().manual_seed(0)
    trained = {sampler.sample(generator).meta["identity"] for _ in range(60)}
    assert trained == {"train-000", "train-001", "train-002"}
    assert not trained & {t.meta["identity"] for t in evals}


def test_evaluation_query_frames_are_evenly_spaced_over_the_last_15_percent(tmp_path):
    root = make_dataset(
        tmp_path, [("short", "a", 40), ("long", "b", 120)], size=16, splits=dict.fromkeys(["short", "long"], "eval")
    )
    options = {"data": str(root), "size": 16, "eval_query": 6, "query": 2}
    short, long = build(options, k=2).eval_tasks()
    assert short.meta["query"] == [34, 35, 36, 37, 38, 39]
    assert long.meta["query"] == [102, 105, 109, 112, 116, 119]


def test_a_prepared_dataset_is_read_and_resized(tmp_path):
    root = make_dataset(tmp_path, [(f"v{i}", f"person{i}", 30) for i in range(4)], size=48)
    sampler = build({"data": str(root), "size": 32, "query": 2, "eval_query": 3, "eval_identities": 1}, k=3)
    task = sampler.sample(torch.Generator().manual_seed(0))
    index = torch.tensor(task.meta["support"], dtype=torch.float32)
    assert torch.allclose(task.support["image"][:, 0, 5, 5], index / 127.5 - 1, atol=1e-6)  # the right frames
    record = next(r for r in sampler.train if r.video == task.meta["video"])
    expected = torch.from_numpy(record.keypoints[task.meta["support"], :, :2] * 32 / 48)
    heat = task.support["pose"]
    flat = heat.flatten(-2).argmax(-1)
    peaks = torch.stack([flat % 32, flat // 32], dim=-1) + 0.5
    assert (peaks - expected).norm(dim=-1).max() <= 1.0
    assert len(sampler.eval_tasks()) == 1 and len(sampler.train) == 3


def test_recorded_splits_are_kept(tmp_path):
    shots = [("a", "ann", 30), ("b", "bob", 30), ("c", "cy", 30)]
    root = make_dataset(tmp_path, shots, splits={"a": "eval", "b": "train", "c": "train"})
    sampler = build({"data": str(root), "size": 48, "query": 2, "eval_query": 3}, k=2)
    assert [t.meta["identity"] for t in sampler.eval_tasks()] == ["ann"]
    assert {r.identity for r in sampler.train} == {"bob", "cy"}


def test_a_person_in_both_splits_is_an_error(tmp_path):
    root = make_dataset(tmp_path, [("a", "ann", 30), ("b", "ann", 30)], splits={"a": "eval", "b": "train"})
    with pytest.raises(UsageError, match="identity ann has both"):
        build({"data": str(root), "size": 48}, k=2)


def test_a_dataset_of_one_person_trains_on_them_whatever_eval_identities_says(tmp_path):
    root = make_dataset(tmp_path, [("mine", "me", 30)])  # one prepared video, no split recorded
    sampler = build({"data": str(root), "size": 48, "query": 2, "eval_query": 3, "eval_identities": 8}, k=2)
    assert sampler.sample(torch.Generator()).name.startswith("mine")
    with pytest.raises(UsageError, match="no held-out videos; prepare some with --split eval"):
        sampler.eval_tasks()


def test_a_dataset_with_only_held_out_people_evaluates_but_cannot_train(tmp_path):
    root = make_dataset(tmp_path, [("mine", "me", 30)], splits={"mine": "eval"})
    sampler = build({"data": str(root), "size": 48, "query": 2, "eval_query": 3}, k=2)
    assert len(sampler.eval_tasks()) == 1
    with pytest.raises(UsageError, match="no training videos.*task.eval_identities"):
        sampler.sample(torch.Generator())


@pytest.mark.parametrize(
    "k, options, purpose",
    [(21, {}, "training"), (2, {"query": 5}, "training"), (2, {"eval_query": 5}, "evaluation")],
)
def test_too_few_frames_for_k_and_query_is_one_clear_line(tiny_sampler, k, options, purpose):
    with pytest.raises(
        UsageError, match=f"has 24 frames: 20 before the 85% split and 4 after, but {purpose} needs"
    ) as error:
        tiny_sampler(k=k, **options)
    assert "\n" not in str(error.value) and "skip_short" in str(error.value)


def test_short_shots_can_be_skipped(tmp_path):
    splits = {"long": "train", "short": "train", "held": "eval"}
    root = make_dataset(tmp_path, [("long", "a", 40), ("short", "b", 8), ("held", "c", 40)], splits=splits)
    with pytest.raises(UsageError, match="short/shot-000 has 8 frames"):
        build({"data": str(root), "size": 48, "query": 4, "eval_query": 4}, k=5)
    sampler = build({"data": str(root), "size": 48, "query": 4, "eval_query": 4, "skip_short": True}, k=5)
    assert [r.video for r in sampler.train] == ["long"]


def test_a_folder_that_is_not_a_dataset_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="not a metaframe video dataset"):
        build({"data": str(tmp_path)}, k=2)


def test_bad_options_are_usage_errors():
    with pytest.raises(UsageError, match="did you mean task.query"):
        build({"querry": 3}, k=2)
    with pytest.raises(UsageError, match="task.size"):
        build({"size": 4}, k=2)
    with pytest.raises(UsageError, match="unknown motion clip"):
        build({**TINY, "clips": "dance_a,moonwalk"}, k=2)


def test_clips_can_be_chosen_from_the_command_line_form(tiny_sampler):
    sampler = tiny_sampler(clips="walk,run")
    assert sampler.options.clips == ("walk", "run")


def test_meta_training_pose2im_runs_on_the_synthetic_dancers_with_no_data_argument(tmp_path):
    args = [
        "run",
        "reptile",
        "--model",
        "pose2im",
        "--task",
        "video-shot",
        "--set",
        "model.scale=tiny",
        "--set=model.init=none",
        *[f"--set=task.{key}={value}" for key, value in TINY.items()],
        "--meta-iterations",
        "1",
        "--k",
        "2",
        "--t",
        "1",
        "--device",
        "cpu",
        "--out",
        str(tmp_path / "run"),
        "-q",
    ]
    result = run_cli(args)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "run" / "model.safetensors").is_file()


def test_every_option_is_in_the_reference_with_its_default():
    text = (Path(__file__).parents[2] / "docs" / "reference" / "video-shot.md").read_text()
    for field in fields(VideoShotOptions):
        assert f"| `{field.name}` |" in text, field.name
        if isinstance(field.default, (bool, int)):  # others are described in words ("all 15", "size / 64")
            written = str(field.default).lower()
            assert f"| `{field.name}` | {written} |" in text, f"{field.name}: the reference does not say {written}"


def test_the_synthetic_options_default_to_the_synthetic_world():
    options, world = VideoShotOptions(), SyntheticConfig()
    assert options.synthetic() == world
    changed = VideoShotOptions(identities=3, eval_identities=2, frames=24, size=32, seed=5, clips=("walk",))
    assert changed.synthetic() == SyntheticConfig(seed=5, identities=3, eval_identities=2, frames=24, size=32,
                                                  clips=("walk",))  # fmt: skip


def test_a_dataset_with_no_held_out_people_cannot_evaluate(tmp_path):
    root = make_dataset(tmp_path, [("a", "ann", 30), ("b", "bob", 30)])
    sampler = build({"data": str(root), "size": 48, "query": 2, "eval_identities": 0}, k=2)
    sampler.sample(torch.Generator())
    with pytest.raises(UsageError, match="no held-out videos.*task.eval_identities"):
        sampler.eval_tasks()


def test_the_preview_draws_a_contact_sheet(tmp_path):
    root = make_dataset(tmp_path / "data", [("a", "ann", 30), ("b", "bob", 30)], size=48, splits={"b": "eval"})
    preview.main([str(tmp_path / "sheet.png"), "--data", str(root), "--videos", "3", "--frames", "4"])
    assert Image.open(tmp_path / "sheet.png").size == (48 * 6, 48 * 2)

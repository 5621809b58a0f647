"""The pretrained ``small`` Pose2Im that ships in the package: it loads, matches its record, and never saw
a held-out identity."""

from __future__ import annotations

import hashlib
import json

import pytest
from safetensors import safe_open

from metaframe.errors import UsageError
from metaframe.testing import from_table
from metaframe_pose2im import model as pose2im_model
from metaframe_pose2im.options import Pose2ImOptions
from metaframe_pose2im.weights import PRETRAINED_DIR
from metaframe_video.synthetic.world import identities
from metaframe_video.task.video_shot import VideoShotOptions
from tests.pose2im.conftest import tiny

build = from_table(pose2im_model.build, Pose2ImOptions, "model")

INFO = {"in_channels": 17, "size": 128, "keypoints": "coco17"}  # video-shot's info at 128 px
RECORD = json.loads((PRETRAINED_DIR / "small.json").read_text())
WEIGHTS = PRETRAINED_DIR / "small.safetensors"


def test_the_record_describes_the_shipped_file():
    assert RECORD["scale"] == "small"
    assert hashlib.sha256(WEIGHTS.read_bytes()).hexdigest() == RECORD["sha256"]
    assert RECORD["command"][:3] == ["metaframe", "run", "pretrain"] and "--seed" in RECORD["command"]
    assert RECORD["config"]["algorithm"] == "pretrain"


def test_it_was_trained_on_training_identities_only():
    options = {key: value for key, value in RECORD["config"]["options"]["task"].items() if key != "size"}
    world = VideoShotOptions(**options).synthetic()
    split = {identity.name: name for identity, name in identities(world)}
    trained = set(RECORD["identities"]["train"])
    assert trained == {name for name, kind in split.items() if kind == "train"}
    assert not trained & {name for name, kind in split.items() if kind == "eval"}
    assert set(RECORD["identities"]["eval"]) == {name for name, kind in split.items() if kind == "eval"}


def test_the_shipped_file_loads_into_the_small_scale_with_its_recorded_shapes():
    model = build({"scale": "small", "init": "pretrained"}, INFO)
    with safe_open(WEIGHTS, "pt") as handle:
        shapes = {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}  # noqa: SIM118
    own = {f"{name}.{key}": tuple(value.shape) for name, net in model.networks.items() for key, value in
           net.state_dict().items()}  # fmt: skip
    assert own == shapes


def test_a_scale_without_shipped_weights_is_refused_saying_how_to_go_on():
    with pytest.raises(UsageError, match=r"no shipped weights for scale 'tiny'.*model\.init=none"):
        tiny(init="pretrained")


def test_weights_that_do_not_fit_the_architecture_say_which_and_how_to_regenerate():
    with pytest.raises(UsageError, match=r"scale 'small'.*tools/make_pretrained\.py"):
        build({"scale": "small", "ngf": 8, "init": "pretrained"}, INFO)

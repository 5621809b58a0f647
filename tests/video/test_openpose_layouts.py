"""OpenPose JSON as other tools write it: COCO-18, BODY_25 and BODY_25B, any file name with a frame number."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from metaframe.errors import UsageError
from metaframe_video.dataset import read_index, read_shot
from metaframe_video.keypoints import BODY25_TO_COCO17, BODY25B_TO_COCO17, OPENPOSE18_TO_COCO17
from metaframe_video.prepare.pipeline import PrepareOptions, prepare
from metaframe_video.prepare.pose_openpose import frame_number, read_people
from tests.video.conftest_prepare import figure

pytest.importorskip("cv2", reason="OpenCV comes with the pose extra (pip install 'metaframe[pose]')")

ORDERS = {"COCO-18": (18, OPENPOSE18_TO_COCO17), "BODY_25": (25, BODY25_TO_COCO17), "BODY_25B": (25, BODY25B_TO_COCO17)}


def flat(points: np.ndarray, layout: str, extras: bool = True) -> list[float]:
    """``pose_keypoints_2d`` of COCO-17 ``points`` in ``layout``; ``extras``: the points COCO-17 lacks too
    (neck, mid-hip, head top, feet), placed where the tool would put them."""
    count, order = ORDERS[layout]
    out = np.zeros((count, 3))
    out[list(order), :2], out[list(order), 2] = points, 0.8
    if extras:
        neck, hips, ankles = points[5:7].mean(0), points[11:13].mean(0), points[15:17]
        feet = {"BODY_25": {1: neck, 8: hips}, "BODY_25B": {17: neck, 18: points[0] - [0, 8]}, "COCO-18": {1: neck}}
        for index, point in feet[layout].items():
            out[index] = (*point, 0.7)
        if count == 25:  # toes and heels beside the ankles
            for index, ankle in zip((19, 20, 21, 22, 23, 24), (ankles[0], ankles[0], ankles[0], *ankles[[1, 1, 1]])):
                out[index] = (*(ankle + [3, 2]), 0.6)
    return out.ravel().round(2).tolist()


@pytest.mark.parametrize("layout", list(ORDERS))
@pytest.mark.parametrize("extras", [True, False])
def test_each_layout_gives_the_same_coco17(tmp_path, layout, extras):
    points = figure(50, 100, 80)
    path = tmp_path / "0001.json"
    path.write_text(json.dumps({"people": [{"pose_keypoints_2d": flat(points, layout, extras)}]}))
    (person,) = read_people(path)
    np.testing.assert_allclose(person.keypoints[:, :2], points, atol=0.01)


@pytest.mark.parametrize("keypoints", [17, 33, 135])
def test_an_unknown_layout_is_one_line_naming_its_keypoint_count(tmp_path, keypoints):
    path = tmp_path / "f_7.json"
    path.write_text(json.dumps({"people": [{"pose_keypoints_2d": [1.0] * (3 * keypoints)}]}))
    with pytest.raises(UsageError, match=f"{keypoints} keypoints .* a layout metaframe does not know") as error:
        read_people(path)
    assert "\n" not in str(error.value) and "BODY_25B" in str(error.value)


@pytest.mark.parametrize(
    ("name", "number"),
    [("frame_0012.json", 12), ("clip2_000000000012_keypoints.json", 12), ("7.json", 7), ("pose.json", None)],
)
def test_the_frame_number_is_the_last_number_in_the_name(name, number):
    assert frame_number(Path(name)) == number


def walking(root: Path, layout: str, name: str, frames: int = 12) -> tuple[Path, Path]:
    """A frame folder (``img_N.png``, from 1) and OpenPose files named ``name.format(N)``, a person walking."""
    images, keypoints = root / "frames", root / "openpose"
    images.mkdir(parents=True)
    keypoints.mkdir()
    for t in range(1, frames + 1):
        points = figure(40 + 4 * t, 110, 90)
        image = np.full((120, 160, 3), 90, np.uint8)
        x0, y0, x1, y1 = (int(v) for v in (*points.min(0), *points.max(0)))
        image[y0:y1, x0:x1] = (200, 40, 40)
        Image.fromarray(image).save(images / f"img_{t}.png")
        people = [{"pose_keypoints_2d": flat(points, layout)}]
        (keypoints / name.format(t)).write_text(json.dumps({"people": people}))
    return images, keypoints


@pytest.mark.parametrize(("layout", "name"), [("BODY_25B", "pose-{:04d}.json"), ("COCO-18", "{}.json")])
def test_prepare_reads_other_layouts_and_namings_frame_by_frame(tmp_path, layout, name):
    frames, keypoints = walking(tmp_path, layout, name)
    (keypoints / name.format(3)).write_text(json.dumps({"people": []}))  # nobody found in frame 3
    (keypoints / name.format(0)).write_text(json.dumps({"people": []}))  # a file for no frame: not by order
    prepare([frames], tmp_path / "ds", PrepareOptions(size=64, min_shot=1), [keypoints])
    video = read_index(tmp_path / "ds")["videos"][0]
    shot = read_shot(tmp_path / "ds", video, video["shots"][0])
    assert video["frames_read"] == 12 and video["frames_without_person"] == 1
    assert video["shots"][0]["frames_without_person"] == "2"  # source index 2 is img_3: matched by number
    assert len(shot.keypoints) == 11
    nose, ankle = shot.keypoints[0, 0], shot.keypoints[0, 15]
    assert ankle[1] > nose[1] + 20  # the feet below the head: the right points were read


def test_two_files_for_one_frame_are_refused(tmp_path):
    frames, keypoints = walking(tmp_path, "BODY_25", "f{}.json", frames=3)
    (keypoints / "again_2.json").write_text((keypoints / "f2.json").read_text())
    with pytest.raises(UsageError, match="f2.json and again_2.json are both frame 2|again_2.json and f2.json"):
        prepare([frames], tmp_path / "ds", PrepareOptions(size=64, min_shot=1), [keypoints])
    assert not (tmp_path / "ds").exists()


def test_a_folder_without_numbered_json_is_refused(tmp_path):
    frames, _ = walking(tmp_path, "BODY_25", "f{}.json", frames=2)
    (tmp_path / "none").mkdir()
    (tmp_path / "none" / "pose.json").write_text("{}")
    with pytest.raises(UsageError, match="holds no JSON files named with a frame number"):
        prepare([frames], tmp_path / "ds", PrepareOptions(size=64), [tmp_path / "none"])

"""One request of ``metaframe demo`` without the page (no Gradio needed): uploads are checked and laid out,
``retarget`` makes the video, a mistake is one line and leaves no file behind."""

from __future__ import annotations

import shutil

import av
import pytest

from metaframe.api import UsageError
from metaframe_video.demo import jobs
from metaframe_video.demo.jobs import Limits, Request, Workspace, run_request
from tests.demo.conftest import CLIP_FRAMES


def frame_count(path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_photo_and_an_uploaded_clip_give_a_video_of_the_clips_frames(tiny_run, uploads, tmp_path):
    told = []
    request = Request([uploads["photo"]], uploads["clip"], "eval-000", k=5, t=2, beside="warp")
    made = run_request(request, Limits(tiny_run, max_frames=30), tmp_path, lambda *seen: told.append(seen))
    assert made.frames == frame_count(made.video) == CLIP_FRAMES  # the uploaded clip wins over the dance
    assert made.summary["k"] == 1  # one photo: K = 1 whatever was asked
    assert made.summary["beside"] == "warp" and made.summary["width"] == 2 * made.summary["height"]
    assert made.contact_sheet.is_file() and made.target_sheet is not None and made.target_sheet.is_file()
    assert ("personalize", 2, 2) in told and told[-1] == ("render", CLIP_FRAMES, CLIP_FRAMES)
    assert (tmp_path / "prepared").is_dir() and len(list((tmp_path / "prepared").iterdir())) == 2  # not the cache


def test_several_photos_are_one_target_and_a_built_in_dance_is_the_source(tiny_run, uploads, tmp_path):
    second = tmp_path / "again.png"
    shutil.copyfile(uploads["photo"], second)
    made = run_request(Request([uploads["photo"], second], None, "train-001", k=2, t=1), Limits(tiny_run, 30), tmp_path)
    assert made.summary["k"] == 2 and made.frames == 24  # the tiny world's videos
    assert sorted(p.name for p in (tmp_path / "target-photos").iterdir()) == ["photo_000.png", "photo_001.png"]


def test_a_clip_of_the_target_gives_k_frames_spread_over_it(tiny_run, uploads, tmp_path):
    made = run_request(Request([uploads["clip"]], None, "eval-001", k=3, t=1), Limits(tiny_run, 30), tmp_path)
    assert made.summary["k"] == 3 and made.frames == 24
    assert made.target_sheet is not None and made.target_sheet.is_file()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda u: Request([u["text"]], None, "eval-000", 5, 1), "not-a-photo.png is not an image that can be read"),
        (lambda u: Request([u["empty"]], None, "eval-000", 5, 1), "no person found in .*nobody.png"),
        (lambda u: Request([u["photo"]], u["still"], None, 5, 1), "no person found in .*still.mp4"),
        (lambda u: Request([], None, "eval-000", 5, 1), "no target given"),
        (lambda u: Request([u["photo"]], None, None, 5, 1), "no source given"),
        (lambda u: Request([u["photo"]], u["photo"], None, 5, 1), "is a photo; give a video of the motion"),
        (lambda u: Request([u["photo"], u["clip"]], None, "eval-000", 5, 1), "as photos or as one clip"),
        (
            lambda u: Request([u["photo"]], u["clip"], None, 5, 1),
            f"has {CLIP_FRAMES} frames; this demo takes at most 8",
        ),
    ],
    ids=[
        "not an image",
        "nobody",
        "no motion",
        "no target",
        "no source",
        "photo as source",
        "clip and photo",
        "too long",
    ],
)
def test_a_mistake_is_one_line_and_its_request_leaves_nothing(tiny_run, uploads, tmp_path, make, says):
    workspace = Workspace(tmp_path)
    with pytest.raises(UsageError, match=says) as error, workspace.request() as folder:
        run_request(make(uploads), Limits(tiny_run, max_frames=8), folder)
    assert "\n" not in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_a_text_file_named_like_a_video_is_refused(tmp_path):
    fake = tmp_path / "dance.mp4"
    fake.write_text("not a video")
    with pytest.raises(UsageError, match="dance.mp4 is not an image or a video"):
        jobs.examine(fake)


def test_finished_requests_are_kept_a_while_then_removed_and_closing_removes_all(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "KEPT", 2)
    root = tmp_path / "server"
    root.mkdir()
    workspace = Workspace(root)
    folders = []
    for _ in range(3):
        with workspace.request() as folder:
            (folder / "retargeted.mp4").write_bytes(b"...")
            folders.append(folder)
    assert [f.exists() for f in folders] == [False, True, True]
    workspace.close()
    assert not root.exists()


def test_the_page_names_uploads_without_the_servers_folders(tmp_path):
    said = f"no person found in {tmp_path}/uploads/3bdc/nobody.png: none of its 1 frames read had one"
    assert jobs.without_folders(said, tmp_path) == "no person found in nobody.png: none of its 1 frames read had one"


def test_the_uploads_of_a_failed_request_are_forgotten_and_nothing_outside_the_root(tmp_path):
    root, outside = tmp_path / "server", tmp_path / "mine.png"
    upload = root / "uploads" / "3bdc" / "photo.png"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"...")
    outside.write_bytes(b"...")
    Workspace(root).forget([upload, outside])
    assert not upload.parent.exists() and (root / "uploads").is_dir() and outside.is_file()

"""``metaframe demo`` in a real browser: headless Chromium uploads a photo and a clip made by the test,
presses Retarget and gets back a video of the clip's frame count; a text file named like a photo gets a
message on the page, the server keeps serving and no request folder is left; two pages asking at once are
both answered (one waits in the queue). Every request the page
makes goes to the server on this machine. Run on purpose (``pytest -m browser``; ``.ci/run`` does)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request

import av
import pytest

from tests.demo.browser import (
    answer,
    chromium,
    demo_server,
    free_port,
    requested_hosts,
    result_url,
    retarget_on_page,
    submit,
    wait_for,
)
from tests.demo.conftest import CLIP_FRAMES

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


def test_the_page_retargets_an_upload_and_says_what_is_wrong_with_a_bad_one(tiny_run, uploads, tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    args = ["--init", str(tiny_run), "--port", str(free_port()), "--max-frames", "30", "--device", "cpu"]
    with demo_server(args, {"TMPDIR": str(scratch)}, tmp_path / "server.log") as url, chromium() as browser:
        (root,) = scratch.glob("metaframe-demo-*")  # the server's one folder
        said = retarget_on_page(browser, url, [uploads["text"]], dance="train-001")
        assert said.startswith("Could not retarget: not-a-photo.png is not an image that can be read")
        assert list(root.glob("request-*")) == [] and list(root.rglob("not-a-photo.png")) == []

        said = retarget_on_page(browser, url, [uploads["photo"]], source=uploads["clip"])
        assert said.startswith(f"Done: {CLIP_FRAMES} frames at 30 fps; personalized on K = 1")
        video = tmp_path / "result.mp4"
        urllib.request.urlretrieve(result_url(browser), video)
        with av.open(str(video)) as container:
            frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        assert len(frames) == CLIP_FRAMES and frames[0].shape == (32, 64, 3)  # the result | the warp (ticked)
        browser.save_screenshot(str(tmp_path / "page.png"))
        hosts = requested_hosts(browser)
        assert hosts and all(host.split(":")[0] in ("127.0.0.1", "data", "blob") for host in hosts), hosts

        with chromium() as other:  # two requests at once: the second waits in the queue, then is answered
            for page in (browser, other):
                submit(page, url, [uploads["photo"]], dance="train-001")
            for page in (browser, other):
                assert wait_for(page, lambda page=page: answer(page), 300).startswith("Done: 24 frames")
    assert not root.exists()  # stopped: everything the requests made is gone


def test_a_port_in_use_is_one_line_and_leaves_no_folder(tiny_run, tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = [sys.executable, "-m", "metaframe", "demo", "--init", str(tiny_run), "--port", str(port)]
        done = subprocess.run(
            args, capture_output=True, text=True, env={**os.environ, "TMPDIR": str(scratch)}, timeout=120
        )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: cannot listen on 127.0.0.1:{port}: the port is in use or the address is not this machine's; "
        "give another --port or --host"
    )
    assert list(scratch.iterdir()) == []


def test_a_server_stopped_by_sigterm_removes_its_folder(tiny_run, tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    args = ["--init", str(tiny_run), "--port", str(free_port())]
    with demo_server(args, {"TMPDIR": str(scratch)}, tmp_path / "server.log", stop=signal.SIGTERM):
        assert len(list(scratch.glob("metaframe-demo-*"))) == 1
    assert list(scratch.iterdir()) == []

"""The pictures in docs/howto/demo.md: ``metaframe demo`` with the shipped model, in headless Chromium.

    python tools/demo_screenshot.py      # docs/images/demo-progress.png and docs/images/demo.png

It starts the demo with no ``--init`` (the shipped pretrained Pose2Im; the first start writes its run
folder into the cache), uploads one photo of a real person (frame 40 of ``../shared/data/sports2d-demo.mp4``,
written to a temporary folder; MediaPipe follows the larger of its two people), picks a built-in dance,
presses Retarget and saves the page halfway through personalization (``--progress-out``) and finished
(``--out``). Needs the demo extra, Selenium and Debian's chromium and chromium-driver, as the browser test
does (``tests/demo/browser.py``, whose helpers it uses).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import av
from PIL import Image
from selenium.webdriver.common.by import By

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the browser helpers of the tests

from tests.demo.browser import answer, chromium, demo_server, free_port, requested_hosts, submit, wait_for  # noqa: E402

CLIP = ROOT.parent / "shared" / "data" / "sports2d-demo.mp4"


def photo_of_a_person(folder: Path, frame: int = 40) -> Path:
    """One frame of the real clip, as a person would upload a photo."""
    with av.open(str(CLIP)) as container:
        image = next(f for i, f in enumerate(container.decode(video=0)) if i == frame).to_ndarray(format="rgb24")
    path = folder / "person.jpg"
    Image.fromarray(image).save(path, quality=92)
    return path


def halfway(bar: str) -> bool:
    """Whether the bar over the result says personalization is half done (``10/20 steps``) or more."""
    steps = re.search(r"(\d+)/(\d+) steps", bar)
    return steps is not None and "personalizing" in bar and 2 * int(steps[1]) >= int(steps[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "demo.png")
    parser.add_argument("--dance", default="eval-004", help="the built-in dance to perform")
    parser.add_argument("--progress-out", type=Path, default=ROOT / "docs" / "images" / "demo-progress.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        photo = photo_of_a_person(folder)
        server = ["--port", str(free_port())]
        with demo_server(server, {}, folder / "server.log") as url, chromium(1400, 1900) as browser:
            submit(browser, url, [photo], dance=args.dance)
            wait_for(browser, lambda: halfway(browser.find_element(By.ID, "result").text), 300)
            browser.save_screenshot(str(args.progress_out))
            print(wait_for(browser, lambda: answer(browser), 600))
            browser.save_screenshot(str(args.out))
            print("hosts the page asked:", sorted(requested_hosts(browser)))
    print(f"wrote {args.progress_out} and {args.out}")


if __name__ == "__main__":
    main()

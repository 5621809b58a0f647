"""Make ``docs/results.md`` from a reproduction's ``report.md``: the report's tables and figures, its pictures
copied under ``docs/images/results/``, its numbers (``results.json``, the figures' JSON and CSV, and every
finished stage's record in ``stages.json``) under ``docs/results-data/``, and the page's own commentary kept.

    python tools/results_page.py runs/reproduce-metapix-small          # after `metaframe reproduce metapix --seeds 3`
    python tools/results_page.py /scratch/small --shown-as runs/reproduce-small

The commentary — what matches the paper, what does not, and why — is written by a person between the
markers ``<!-- commentary -->`` and ``<!-- /commentary -->``; the script keeps it when it regenerates the
page, so the numbers always come from the report and the words are never overwritten.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGE = DOCS / "results.md"
IMAGES = DOCS / "images" / "results"
DATA = DOCS / "results-data"
START, END = "<!-- commentary -->", "<!-- /commentary -->"
PICTURES = {"fig2-k.png": "fig2-k.png", "fig5-t.png": "fig5-t.png", "temporal/strip.png": "temporal-strip.png"}
NUMBERS = ("results.json", "fig2-k.json", "fig2-k.csv", "fig5-t.json", "fig5-t.csv")


def commentary() -> str:
    """The commentary of the current page (markers included), or an empty block to fill in."""
    if PAGE.is_file():
        found = re.search(re.escape(START) + ".*?" + re.escape(END), PAGE.read_text(), re.DOTALL)
        if found:
            return found.group(0)
    return f"{START}\n(What matches the paper, what does not, and why.)\n{END}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the --out folder of a finished (or --report) reproduction")
    parser.add_argument(
        "--shown-as",
        metavar="PATH",
        help="write the folder's path as PATH in the page and the records (e.g. runs/reproduce-small, the "
        "--out a reader would use, rather than where it ran)",
    )
    arguments = parser.parse_args()
    folder = arguments.folder

    def shown(text: str) -> str:
        """Paths as a reader of the page would type them: the folder as --shown-as, the checkout's files relative."""
        if arguments.shown_as:
            text = text.replace(str(folder.resolve()), arguments.shown_as)
        return text.replace(f"{ROOT}/", "")

    report = shown((folder / "report.md").read_text())
    IMAGES.mkdir(parents=True, exist_ok=True)
    for source, name in PICTURES.items():
        if (folder / source).is_file():
            shutil.copyfile(folder / source, IMAGES / name)
            report = report.replace(f"]({source})", f"](images/results/{name})")
    shutil.rmtree(DATA, ignore_errors=True)  # no file left over from an earlier reproduction
    DATA.mkdir(parents=True)
    for name in NUMBERS:
        if (folder / name).is_file():
            (DATA / name).write_text(shown((folder / name).read_text()))
            report = report.replace(f"]({name})", f"](results-data/{name})")
    records = [json.loads(shown(path.read_text())) for path in sorted(folder.glob("*/stage.json"))]
    (DATA / "stages.json").write_text(json.dumps(records, indent=1) + "\n")
    # the video and other files stay in the reproduction's folder: say where, not a dead link
    pattern = r"\[([^\]]+)\]\((?!images/|results-data/)([^)]+)\)"
    report = re.sub(pattern, r"`\2` (in the reproduction's folder)", report)
    lines = report.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("# "))  # after a partial report's note
    title, rest = lines[first], "\n".join(lines[:first] + lines[first + 1 :])
    PAGE.write_text(f"{title}\n\n{commentary()}\n{rest}\n")
    print(f"wrote {PAGE} and {len(list(IMAGES.iterdir()))} pictures in {IMAGES}")


if __name__ == "__main__":
    main()

"""Make ``docs/results.md`` from a reproduction's ``report.md``: the report's tables and figures, its pictures
copied under ``docs/images/results/``, and the page's own commentary kept.

    python tools/results_page.py runs/reproduce-metapix-small          # after `metaframe reproduce metapix --seeds 3`

The commentary — what matches the paper, what does not, and why — is written by a person between the
markers ``<!-- commentary -->`` and ``<!-- /commentary -->``; the script keeps it when it regenerates the
page, so the numbers always come from the report and the words are never overwritten.
"""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

DOCS = Path(__file__).parents[1] / "docs"
PAGE = DOCS / "results.md"
IMAGES = DOCS / "images" / "results"
START, END = "<!-- commentary -->", "<!-- /commentary -->"
PICTURES = {"fig2-k.png": "fig2-k.png", "fig5-t.png": "fig5-t.png", "temporal/strip.png": "temporal-strip.png"}


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
    folder = parser.parse_args().folder
    report = (folder / "report.md").read_text()
    IMAGES.mkdir(parents=True, exist_ok=True)
    for source, name in PICTURES.items():
        if (folder / source).is_file():
            shutil.copyfile(folder / source, IMAGES / name)
            report = report.replace(f"]({source})", f"](images/results/{name})")
    # data files and the video stay in the reproduction's folder: say where, not a dead link
    report = re.sub(r"\[([^\]]+)\]\((?!images/)([^)]+)\)", r"`\2` (in the reproduction's folder)", report)
    lines = report.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("# "))  # after a partial report's note
    title, rest = lines[first], "\n".join(lines[:first] + lines[first + 1 :])
    PAGE.write_text(f"{title}\n\n{commentary()}\n{rest}\n")
    print(f"wrote {PAGE} and {len(list(IMAGES.iterdir()))} pictures in {IMAGES}")


if __name__ == "__main__":
    main()

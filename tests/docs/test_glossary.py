"""The glossary defines the words the README and the how-tos lean on, and the README's links into it
land on a definition."""

from __future__ import annotations

import re

from tests.docs.commands import ROOT

GLOSSARY = ROOT / "docs" / "glossary.md"
TERMS = ["K", "T", "support", "query", "meta-iteration", "meta-batch", "ε", "adaptation", "personalization", "preset",
         "scale", "capability", "init", "run, training, setup, configuration"]  # fmt: skip


def anchor(heading: str) -> str:
    """The anchor a Markdown renderer gives a heading (GitHub's rule: lower case, spaces to hyphens,
    punctuation other than hyphens dropped)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def glossary_anchors() -> set[str]:
    return {anchor(line[3:]) for line in GLOSSARY.read_text().splitlines() if line.startswith("## ")}


def test_every_term_the_issue_names_has_an_entry():
    missing = [term for term in TERMS if anchor(term) not in glossary_anchors()]
    assert not missing, f"docs/glossary.md has no entry for {missing}"


def test_the_four_meanings_of_init_are_told_apart():
    entry = GLOSSARY.read_text().split("## init", 1)[1].split("\n## ", 1)[0]
    for where in ("run --init", "eval --init", "retarget --init", "model.init"):
        assert where in entry, f"the init entry does not explain {where}"


def entry(term: str) -> str:
    return GLOSSARY.read_text().split(f"## {term}\n", 1)[1].split("\n## ", 1)[0]


def test_adaptation_and_personalization_are_told_apart():
    assert "metaframe.loop.adapt" in entry("adaptation") and "inner loop" in entry("adaptation")
    assert "OuterAlgorithm.personalize" in entry("personalization") and "[adaptation](#adaptation)" in entry(
        "personalization"
    )


def test_the_engines_names_each_say_one_thing():
    for name in ("`Config`", "`Settings`", "`Setup`", "`Training`", "`RunFolder`", "`RunResult`"):
        assert name in entry("run, training, setup, configuration"), name


def test_the_readmes_links_into_the_glossary_land_on_an_entry():
    links = re.findall(r"\(docs/glossary\.md#([^)]+)\)", (ROOT / "README.md").read_text())
    assert links, "the README links no glossary entry"
    unknown = sorted(set(links) - glossary_anchors())
    assert not unknown, f"README.md links glossary entries that do not exist: {unknown}"

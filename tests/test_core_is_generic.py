"""The engine knows none of its built-in plugins: no name they register (an algorithm, model, task or
preset, or a word of a hyphenated one) appears in ``metaframe/`` — code, messages, help texts,
docstrings or comments — outside the commented allow-list below. The names come from the registry, so
a new built-in name is checked without touching this file."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import metaframe
from metaframe.plugins import GROUP, Plugins, load_plugins

CORE = Path(metaframe.__file__).parent
KINDS = ("algorithms", "models", "tasks", "presets", "experiments", "references")

# (file under metaframe/, word): why it is still there. Each entry is a debt to pay, not a licence.
ALLOWED = {
    # not a debt: PyAV's own names (av.video.stream.VideoStream), which the MP4 writer cannot rename
    ("videofile.py", "video"): "PyAV's module av.video, whose VideoStream the MP4 writer types its stream with",
}


def builtin_plugins() -> Plugins:
    """The plugins this distribution ships (not fixtures, not third-party ones), loaded afresh."""
    ours = [ep for ep in importlib.metadata.entry_points(group=GROUP) if ep.dist and ep.dist.name == "metaframe"]
    return load_plugins(entry_points=ours)


def vocabulary(plugins: Plugins) -> set[str]:
    """Every registered name, and each word of a hyphenated or underscored one, in lower case."""
    names = {entry.name.lower() for kind in KINDS for entry in getattr(plugins, kind)}
    return names | {word for name in names for word in re.split(r"[-_]", name) if word}


def occurrences(text: str, word: str) -> list[int]:
    """Line numbers where ``word`` stands as a word of its own (``few-shot`` does not contain ``shot``)."""
    pattern = re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])", re.IGNORECASE)
    return [number for number, line in enumerate(text.splitlines(), 1) if pattern.search(line)]


def test_the_vocabulary_comes_from_every_builtin_plugin():
    plugins = builtin_plugins()
    assert {info.name for info in plugins.infos if info.status == "ok"} >= {"algorithms", "pose2im", "toy", "video"}
    assert all(len(getattr(plugins, kind)) for kind in KINDS)
    words = vocabulary(plugins)
    assert {word for _, word in ALLOWED} <= words, "an allow-list entry names a word no built-in plugin registers"


def test_no_builtin_plugin_name_in_the_core():
    words = vocabulary(builtin_plugins())
    found = []
    for path in sorted(CORE.rglob("*.py")):
        text, where = path.read_text(), path.relative_to(CORE).as_posix()
        for word in sorted(words):
            if (where, word) not in ALLOWED:
                found += [f"metaframe/{where}:{line}: {word}" for line in occurrences(text, word)]
    assert not found, "the core names built-in plugins:\n" + "\n".join(found)


def test_the_scan_finds_a_name_as_a_word_and_only_as_a_word():
    assert occurrences("pick another algorithm (e.g. Reptile)\nreptiles", "reptile") == [1]
    assert occurrences("a few-shot learner", "shot") == []
    assert occurrences("model = 'pose2im-video'", "pose2im-video") == [1]

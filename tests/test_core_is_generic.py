"""The engine knows only meta-learning: ``metaframe/`` — code, messages, help texts, docstrings and comments —
names none of its built-in plugins and none of the domain they work in (images, poses, videos, people).

Two scans, each with a commented allow-list:

* the domain's words (:data:`DOMAIN`): what the pose-to-image model and the video task are about. Those
  belong in ``plugins/``; the engine speaks of examples, inputs, predictions and tasks;
* every name a built-in plugin registers (an algorithm, model, task, preset, experiment or reference), and
  each word of a hyphenated one. The names come from the registry, so a new built-in name is checked
  without touching this file.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import metaframe
from metaframe.plugins import GROUP, Plugins, load_plugins

CORE = Path(metaframe.__file__).parent
KINDS = ("algorithms", "models", "tasks", "presets", "experiments", "references")

DOMAIN = (
    "image", "images",
    "pose", "poses", "posed", "keypoint", "keypoints", "skeleton", "heatmap", "heatmaps", "limb", "limbs",
    "video", "videos", "frame", "frames", "fps", "mp4", "footage", "motion", "clip", "clips", "pixel", "pixels",
    "person", "persons", "people", "dancer", "dancers", "retarget", "retargeting", "pix2pixhd",
)  # fmt: skip
"""Words of the pose/video domain. Allowed because they are meta-learning's or generic: ``support`` (the
support set), ``render`` (a model's predictions from inputs alone, :data:`metaframe.protocols.RENDER`),
``picture`` (what a model that declares ``samples`` draws of its predictions, any figure), ``GAN`` (the
example of networks that take turns on losses of their own, which the functional inner step must know)."""

# (file under metaframe/, word): why it is still there. Each entry must be a generic use, not a debt.
ALLOWED = {
    ("plugins.py", "frames"): "a traceback's stack frames, where a broken plugin raised",
    ("training.py", "frame"): "the stack frame a signal handler receives (signal.signal's signature)",
    ("run_folder.py", "image"): "PIL's Image, which writes a model's sample pictures (samples/*.png, any figure)",
}

GENERIC_WORDS = {
    "support": "the support set: meta-learning's own word",
    "mean": "the mean over tasks or over a meta-batch",
    "copy": "copying tensors and weights",
    "nearest": "rounding to the nearest value",
}
"""Words of hyphenated registered names (``copy-nearest``, ``mean-support``) that are plain meta-learning or
Python vocabulary on their own; the whole names are still refused."""


def builtin_plugins() -> Plugins:
    """The plugins this distribution ships (not fixtures, not third-party ones), loaded afresh."""
    ours = [ep for ep in importlib.metadata.entry_points(group=GROUP) if ep.dist and ep.dist.name == "metaframe"]
    return load_plugins(entry_points=ours)


def vocabulary(plugins: Plugins) -> set[str]:
    """Every registered name, and each word of a hyphenated or underscored one, in lower case (less the
    :data:`GENERIC_WORDS`)."""
    names = {entry.name.lower() for kind in KINDS for entry in getattr(plugins, kind)}
    words = {word for name in names for word in re.split(r"[-_]", name) if word}
    return names | (words - set(GENERIC_WORDS))


def occurrences(text: str, word: str) -> list[int]:
    """Line numbers where ``word`` stands as a word of its own (``few-shot`` does not contain ``shot``,
    ``metaframe`` does not contain ``frame``)."""
    pattern = re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])", re.IGNORECASE)
    return [number for number, line in enumerate(text.splitlines(), 1) if pattern.search(line)]


def found_in_core(words: set[str]) -> list[str]:
    """``metaframe/FILE:LINE: WORD`` for each word of ``words`` in the core, outside :data:`ALLOWED`."""
    found = []
    for path in sorted(CORE.rglob("*.py")):
        text, where = path.read_text(), path.relative_to(CORE).as_posix()
        for word in sorted(words):
            if (where, word) not in ALLOWED:
                found += [f"metaframe/{where}:{line}: {word}" for line in occurrences(text, word)]
    return found


def test_the_vocabulary_comes_from_every_builtin_plugin():
    plugins = builtin_plugins()
    assert {info.name for info in plugins.infos if info.status == "ok"} >= {"algorithms", "pose2im", "toy", "video"}
    assert all(len(getattr(plugins, kind)) for kind in KINDS)
    words = vocabulary(plugins)
    assert {"copy-nearest", "video-shot", "video", "pose2im"} <= words
    assert not words & set(GENERIC_WORDS)


def test_no_builtin_plugin_name_in_the_core():
    found = found_in_core(vocabulary(builtin_plugins()))
    assert not found, "the core names built-in plugins:\n" + "\n".join(found)


def test_no_word_of_the_pose_and_video_domain_in_the_core():
    found = found_in_core(set(DOMAIN))
    assert not found, "the core speaks of images, poses, videos or people; move it to a plugin:\n" + "\n".join(found)


def test_every_allowance_is_still_needed():
    for where, word in ALLOWED:
        assert occurrences((CORE / where).read_text(), word), f"{where} no longer says {word!r}: drop its allowance"


def test_the_scan_finds_a_word_and_only_a_word():
    assert occurrences("pick another algorithm (e.g. Reptile)\nreptiles", "reptile") == [1]
    assert occurrences("a few-shot learner", "shot") == []
    assert occurrences("model = 'pose2im-video'", "pose2im-video") == [1]
    assert occurrences("import metaframe\nframes = []", "frames") == [2]
    assert occurrences("a Pose's keypoints", "pose") == [1]

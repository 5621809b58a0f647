"""The commands the docs show, found in their fenced blocks and made fast by a documented substitution.

What counts as a documented command, and how it is changed before a test runs it, is written once here
(and for readers in docs/reference/docs-tests.md); tests/docs/test_documented_commands.py runs them.

**Found.** Every fenced block of README.md and docs/**.md. Backslash continuations are joined, a
leading ``$ `` prompt is dropped (in a block that has prompts, only prompted lines are commands; the
rest is output), a trailing ``# comment`` is dropped, and a line is split at ``&&``. A part is a command
when its program, after any ``NAME=value`` environment assignments, is ``metaframe``, ``python -m
metaframe`` or ``torchrun … -m metaframe``. A line that is only ``NAME=value`` sets ``$NAME`` for the
page's later lines, as the reader's shell would keep it.

**Placeholders** are files the test makes in the page's working folder under the names the docs use
(:data:`FIXTURES`: a photo and a 48-frame clip (two people) cut from ``../shared/data/sports2d-demo.mp4``, a
pix2pixHD checkpoint at the tiny scale, a synthetic dancer's frames with OpenPose JSON, a one-video
dataset prepared from them); the names that are not files are rewritten (:data:`REWRITES`):
``runs/<name>``, ``runs/pretrain-...``, ``model.init=pretrained`` and the shipped ``small`` weights are
a tiny trained run (the tiny scale ships no weights), ``../shared/data/sports2d-demo.mp4`` is the cut.
A bare ``...`` ("the options you gave before") goes, ``[`` and ``]`` around an optional part go (the
part is kept), ``/shared/runs/`` is ``runs/``. A path to what the repository ships (``plugins/…``,
``examples/…``, ``tools/…``, ``benchmarks/…``) is made absolute; anything else (``runs/…``) stays relative
to the test's own folder, so a checkout's own run folders are never read or written. A run folder that
a command reads (``--init``, ``model.init=``, ``--resume``) and no command of the page writes is a copy
of the tiny run. A command that a page repeats runs once.

**Made fast.** ``run`` and ``compare``: ``--meta-iterations 2 --t 2 --quiet`` (``--quiet`` alone with
``--resume``, which refuses a changed T), and an ``--out`` of their own when the page gives none (two
runs started in one second would share the default); with ``pose2im``, ``video-shot`` or a preset of
theirs also :data:`TINY_POSE2IM` (the registered test options of both, 5 dancers held out) and
``--set model.init=none`` unless the command gives its own init. ``eval`` and ``retarget``: ``--t 2``
(their model and task are the run folder's). ``reproduce``: ``--scale tiny``. ``--device cuda`` is
``--device cpu`` on a machine without CUDA. Options given later win, so these replace what the page
wrote.

**Not run**: ``demo``, which serves a page until stopped (``tests/demo/test_demo_browser.py`` drives
it in a browser).

**Slow** (marker ``slow``, run by ``.ci/run``): a command that needs the pose extra (``prepare``
without ``--keypoints``; ``retarget`` from a photo or video), ``reproduce`` (a minute even at the tiny
scale; ``--plan`` and ``--report`` excepted), and one that reads what a slow command wrote.
"""

from __future__ import annotations

import re
import shlex
import zlib
from dataclasses import dataclass
from pathlib import Path

from metaframe_video.task.video_shot import TEST_OPTIONS

ROOT = Path(__file__).parents[2]
SHIPPED = ("plugins/", "examples/", "tools/", "benchmarks/")  # what a command may name in the repository
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

SERVERS = ("demo",)
"""Commands that serve until stopped: not run here (``tests/demo/test_demo_browser.py`` drives one)."""

TINY_RUN = "runs/docs-tiny"
"""Where every page's working folder holds a copy of the tiny trained run."""

FIXTURES = {
    "photo": ["me.jpg", "man.jpg"],
    "clip": ["dance.mp4", "me.mp4", "my-video.mp4", "clip.mp4"],
    "generator": ["latest_net_G.pth", "checkpoints/dance/latest_net_G.pth", "checkpoints/NAME/latest_net_G.pth"],
    "discriminator": ["checkpoints/dance/latest_net_D.pth", "checkpoints/NAME/latest_net_D.pth"],
    "frames": ["frames"],
    "openpose": ["openpose", "openpose_json"],
    "dataset": ["my-dataset", "ds"],  # one video, no split: what `prepare` makes of one phone video
}
"""The files each page's working folder holds, by kind, under the names the docs give them."""

REWRITES = {
    "runs/<name>": TINY_RUN,
    "runs/pretrain-...": TINY_RUN,
    "plugins/metaframe_pose2im/pretrained/small.safetensors": f"{TINY_RUN}/model.safetensors",
    "../shared/data/sports2d-demo.mp4": "clip.mp4",
    "ds/clip": "ds/frames",
    "model.init=pretrained": f"model.init={TINY_RUN}",
}
"""Arguments that name no file the test can make, and what stands in for them."""

TINY_POSE2IM = {
    "model.scale": "tiny",
    **{f"task.{key}": value for key, value in TEST_OPTIONS.items()},
    "task.eval_identities": 5,  # the docs name the held-out dancer eval-004
}
"""The Pose2Im options of every documented ``run`` and ``compare``: the registered test options of
``pose2im`` (the tiny scale) and ``video-shot`` (3 + 2 dancers × 24 frames at 32 px), 5 dancers held out."""

POSE2IM_WORDS = {"pose2im", "video-shot", "metapix", "pose2im-video"}
TRAINING = {"run", "compare"}
READS_RUN = ("--init", "model.init=")
IMAGE_OR_VIDEO = re.compile(r"\.(jpe?g|png|mp4|mov|avi|webm)$", re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    """One documented command: where it is, how the page writes it, and what the test runs."""

    page: str
    line: int
    text: str
    args: tuple[str, ...]
    slow: str | None = None

    @property
    def where(self) -> str:
        """``page:line``, for failure messages and test ids."""
        return f"{self.page}:{self.line}"


def page_commands(page: Path, cuda: bool = False) -> list[Command]:
    """The documented commands of ``page``, in reading order, substituted and classified."""
    name = page.relative_to(ROOT).as_posix()
    commands, slow_outputs, seen = [], set(), set()
    for line, text, documented_args in documented(page.read_text()):
        args = substitute(documented_args, cuda)
        if args[0] in SERVERS:
            continue
        if tuple(args) in seen:
            continue  # a page may repeat a command to keep a section whole; it runs once
        seen.add(tuple(args))
        reason = slowness(args, slow_outputs)
        out = option_value(args, "--out")
        if reason and out:
            slow_outputs.add(out)
        commands.append(Command(name, line, text, tuple(args), reason))
    return commands


def documented(markdown: str) -> list[tuple[int, str, list[str]]]:
    """(line number, text, metaframe arguments) of each command in the fenced blocks of ``markdown``."""
    found, variables = [], {}  # a reader's shell keeps what an earlier block set
    for first, block in fenced_blocks(markdown):
        for line, text in logical_lines(block, first):
            assignment = re.fullmatch(r"([A-Z_][A-Z0-9_]*)=(\S+)", text)
            if assignment:
                variables[assignment[1]] = assignment[2]
                continue
            for part in text.split("&&"):
                args = metaframe_args(expand(part, variables))
                if args is not None:
                    found.append((line, part.strip(), args))
    return found


def fenced_blocks(markdown: str) -> list[tuple[int, list[str]]]:
    """(line number of the first line inside, lines) of each fenced block."""
    blocks, current, start = [], None, 0
    for number, line in enumerate(markdown.splitlines(), 1):
        if line.lstrip().startswith("```"):
            if current is None:
                current, start = [], number + 1
            else:
                blocks.append((start, current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def logical_lines(block: list[str], first: int) -> list[tuple[int, str]]:
    """The block's command lines: continuations joined, prompts dropped; with prompts, output is skipped."""
    prompted = any(line.lstrip().startswith("$ ") for line in block)
    lines, pending, start = [], "", first
    for number, raw in enumerate(block, first):
        text = raw.strip()
        if not pending:
            start = number
            if prompted and not text.startswith("$ "):
                continue
            text = text.removeprefix("$ ")
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        lines.append((start, pending + text))
        pending = ""
    return lines


def expand(text: str, variables: dict[str, str]) -> str:
    """``$NAME`` replaced by what an earlier ``NAME=value`` line of the block set."""
    return re.sub(r"\$([A-Z_][A-Z0-9_]*)", lambda m: variables.get(m[1], m[0]), text)


def metaframe_args(text: str) -> list[str] | None:
    """The arguments after ``metaframe`` (or ``python -m metaframe``, ``torchrun … -m metaframe``), else None."""
    try:
        words = shlex.split(text, comments=True)
    except ValueError:
        return None
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
        words = words[1:]  # environment assignments
    if words[:1] == ["metaframe"]:
        return words[1:]
    for start in (["python", "-m", "metaframe"], ["python3", "-m", "metaframe"]):
        if words[:3] == start:
            return words[3:]
    if words[:1] == ["torchrun"] and "metaframe" in words:
        at = words.index("metaframe")  # the launcher is tests/test_distributed.py's; here the command runs once
        return words[at + 1 :] if words[at - 1] == "-m" else None
    return None


def substitute(args: list[str], cuda: bool = False) -> list[str]:
    """The documented arguments with placeholders rewritten and the fast settings appended."""
    args = [rewrite(arg) for arg in args if arg != "..."]
    if not cuda:
        args = ["cpu" if a.startswith("cuda") and p == "--device" else a for p, a in zip(["", *args], args)]
    return args + fast_settings(args)


def rewrite(arg: str) -> str:
    """One argument with its placeholder, optional-part brackets and foreign paths rewritten."""
    arg = arg.strip("[]") if arg.startswith("[") or arg.endswith("]") else arg
    arg = REWRITES.get(arg, arg)
    prefix, _, value = arg.rpartition("=") if arg.startswith(("model.", "task.")) else ("", "", arg)
    value = REWRITES.get(value, value).replace("/shared/runs/", "runs/")
    if value.startswith(SHIPPED) and (ROOT / value).exists():
        value = str(ROOT / value)
    return f"{prefix}={value}" if prefix else value


def fast_settings(args: list[str]) -> list[str]:
    """The options appended to make ``metaframe ARGS`` fast (see the module docstring)."""
    command = args[0] if args else ""
    if command in TRAINING:
        if "--resume" in args:
            return ["--quiet"]
        extra = ["--meta-iterations", "2", "--t", "2", "--quiet"]
        if option_value(args, "--out") is None:  # two runs started in one second would share the default
            extra += ["--out", f"runs/default-{zlib.crc32(' '.join(args).encode()):08x}"]
        if POSE2IM_WORDS & set(args):
            extra += [arg for key, value in TINY_POSE2IM.items() for arg in ("--set", f"{key}={value}")]
            if not any(a.startswith(READS_RUN) for a in args):
                extra += ["--set", "model.init=none"]
        return extra
    if command in ("eval", "retarget"):
        return ["--t", "2"]
    if command == "reproduce":
        return ["--scale", "tiny"]
    return []


def slowness(args: list[str], slow_outputs: set[str]) -> str | None:
    """Why ``metaframe ARGS`` is marked slow, or None."""
    command = args[0] if args else ""
    if command == "prepare" and "--keypoints" not in args:
        return "needs the pose extra (MediaPipe)"
    if command == "retarget" and "--target-keypoints" not in args:
        footage = [option_value(args, "--target"), option_value(args, "--source")]
        if any(f and IMAGE_OR_VIDEO.search(f) for f in footage):
            return "needs the pose extra (MediaPipe)"
    if command == "reproduce" and not {"--plan", "--report"} & set(args):
        return "minutes, even at the tiny scale"
    own = {option_value(args, "--out")} if writes_fresh(args) else set()
    if any(reads(arg, output) for output in slow_outputs - own for arg in args[1:]):
        return "reads what a slow command wrote"
    return None


def writes_fresh(args: list[str] | tuple[str, ...]) -> bool:
    """Whether the command makes its ``--out`` (rather than continuing or reading what is there)."""
    return option_value(args, "--out") is not None and not {"--resume", "--report", "--plan"} & set(args)


def reads(arg: str, path: str) -> bool:
    """Whether the argument ``arg`` names ``path`` or a file in it (``--set task.data=PATH`` included)."""
    value = arg.rpartition("=")[2]
    return value == path or value.startswith(f"{path}/")


def option_value(args: list[str] | tuple[str, ...], option: str) -> str | None:
    """The last value given to ``option`` in ``args`` (the one that counts), else None."""
    values = [value for name, value in zip(args, args[1:]) if name == option]
    return values[-1] if values else None


def written(commands: list[Command]) -> set[str]:
    """The ``--out`` folders and files the commands write."""
    return {out for c in commands if writes_fresh(c.args) and (out := option_value(c.args, "--out"))}


def runs_read(args: tuple[str, ...]) -> list[str]:
    """The ``runs/…`` folders a command reads: ``--init``, ``model.init=`` and the ``--out`` it resumes."""
    values = [v for name, v in zip(args, args[1:]) if name == "--init"]
    values += [a.partition("=")[2] for a in args if a.startswith("model.init=")]
    if "--resume" in args:
        values.append(option_value(args, "--out") or "")
    return [v.split("/model.safetensors")[0] for v in values if v.startswith("runs/")]

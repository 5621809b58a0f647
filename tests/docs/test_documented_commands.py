"""Every command in README.md and docs/ runs: one test per page, its commands in reading order.

The commands are found and made fast as tests/docs/commands.py says (and docs/reference/docs-tests.md
for readers): fenced blocks, ``$ `` prompts, ``\\`` continuations and ``# comments`` handled; placeholders
(``runs/<name>``, ``me.jpg``, ``dance.mp4``, ``latest_net_G.pth``, ``...``) are files made in the page's
working folder; ``run`` and ``compare`` get ``--meta-iterations 2 --t 2 --quiet`` and, for Pose2Im,
``--set model.scale=tiny --set task.size=32``. A refused command fails its page's test with its stderr.
Commands that need the pose extra (MediaPipe) or minutes are marked ``slow``; ``.ci/run`` runs them.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import torch

from metaframe.testing import Plugins, load_plugins, run_cli
from tests.docs.commands import (
    PAGES,
    ROOT,
    Command,
    documented,
    option_value,
    page_commands,
    runs_read,
    substitute,
    written,
)
from tests.docs.conftest import furnish

CUDA = torch.cuda.is_available()
COMMANDS = {page.relative_to(ROOT).as_posix(): page_commands(page, CUDA) for page in PAGES}
FAST = [name for name, commands in COMMANDS.items() if any(not c.slow for c in commands)]
SLOW = [name for name, commands in COMMANDS.items() if any(c.slow for c in commands)]


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks gain nothing from intra-op threads on a shared 2-core machine; restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def page_plugins(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Plugins | None:
    """The plugins a page's commands need beyond the installed ones: write-a-plugin's worked example."""
    if page != "docs/howto/write-a-plugin.md":
        return None
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(), re.DOTALL)
    source = next(block for block in blocks if block.startswith("# metaframe_linreg/plugin.py"))
    (tmp_path / "linreg_plugin.py").write_text(source)
    spec = importlib.util.spec_from_file_location("linreg_plugin", tmp_path / "linreg_plugin.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "linreg_plugin", module)  # as an import would (dataclasses look it up)
    spec.loader.exec_module(module)
    return load_plugins(extra=[("linreg", module)])


def run_page(page: str, commands: list[Command], files: dict, tmp_path: Path, monkeypatch) -> None:
    """Run ``commands`` in order in a working folder furnished with the files they name."""
    workspace = tmp_path / "work"
    workspace.mkdir()
    plugins = page_plugins(page, tmp_path, monkeypatch)
    monkeypatch.chdir(workspace)
    furnish(workspace, files, written(commands), {run for c in commands for run in runs_read(c.args)})
    for command in commands:
        result = run_cli(list(command.args), plugins)
        assert result.exit_code == 0, (
            f"{command.where}: `{command.text}` was refused (ran `metaframe {' '.join(command.args)}`):\n"
            f"{result.stderr.strip()}"
        )


@pytest.mark.parametrize("page", FAST)
def test_documented_commands_run(page, docs_files, tmp_path, monkeypatch):
    run_page(page, [c for c in COMMANDS[page] if not c.slow], docs_files, tmp_path, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("page", SLOW)
def test_documented_slow_commands_run(page, docs_files, tmp_path, monkeypatch):
    """The whole page in order, the slow commands with the rest (they may read what the others wrote)."""
    run_page(page, COMMANDS[page], docs_files, tmp_path, monkeypatch)


def test_the_readme_and_the_how_tos_have_commands_to_run():
    for page in ("README.md", "docs/getting-started.md", "docs/howto/retarget.md", "docs/howto/distributed.md"):
        assert COMMANDS[page], f"no command found in {page}: has the collector stopped seeing them?"


def test_the_collector_reads_blocks_as_a_shell_would():
    markdown = "\n".join(
        [
            "```console",
            "$ metaframe run reptile --model m \\",
            "      --task t   # a comment",
            "output line: metaframe run is not a command",
            "$ pip install x && metaframe plugins",
            "```",
            "```bash",
            "P=runs/x",
            "torchrun --standalone --nproc_per_node 2 -m metaframe eval --init $P --init 'a b'",
            "PYTHONPATH=/tmp/site python -m metaframe plugins --json",
            "python benchmarks/speed.py",
            "```",
        ]
    )
    found = [(line, args) for line, _, args in documented(markdown)]
    assert found == [
        (2, ["run", "reptile", "--model", "m", "--task", "t"]),
        (5, ["plugins"]),
        (9, ["eval", "--init", "runs/x", "--init", "a b"]),
        (10, ["plugins", "--json"]),
    ]


def test_the_substitution_is_the_documented_one():
    main_job = substitute(["run", "reptile", "--model", "pose2im", "--task", "video-shot"])
    assert main_job[:11] == [
        "run", "reptile", "--model", "pose2im", "--task", "video-shot", "--meta-iterations", "2", "--t", "2", "--quiet",
    ]  # fmt: skip
    assert option_value(main_job, "--out").startswith("runs/default-")  # two runs in one second would clash
    settings = dict(value.split("=") for option, value in zip(main_job, main_job[1:]) if option == "--set")
    assert settings == {
        "model.scale": "tiny", "model.init": "none", "task.identities": "3", "task.eval_identities": "5",
        "task.frames": "24", "task.size": "32", "task.query": "3", "task.eval_query": "4",
    }  # fmt: skip
    assert "model.init=none" not in substitute(["run", "pretrain", "--model", "pose2im", "--init", "runs/x"])
    assert substitute(["eval", "--init", "runs/<name>", "--init", "warp"]) == [
        "eval", "--init", "runs/docs-tiny", "--init", "warp", "--t", "2",
    ]  # fmt: skip
    assert substitute(["reproduce", "metapix", "--scale", "paper", "--device", "cuda"]) == [
        "reproduce", "metapix", "--scale", "paper", "--device", "cpu", "--scale", "tiny",
    ]  # fmt: skip
    assert substitute(["reproduce", "metapix", "--plan"]) == ["reproduce", "metapix", "--plan", "--scale", "tiny"]
    assert substitute(["run", "reptile", "...", "--out", "runs/<name>", "--resume"]) == [
        "run", "reptile", "--out", "runs/docs-tiny", "--resume", "--quiet",
    ]  # fmt: skip

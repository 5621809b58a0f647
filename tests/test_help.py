"""``--help`` reads as words at 80 columns: no Python types, no typer markup, sentences that end."""

import re

import pytest

from metaframe.testing import run_cli

COMMANDS = ("plugins", "run", "eval", "compare", "retarget", "demo", "reproduce", "convert", "prepare")
PYTHON_LOOKING = re.compile(r"<[a-z]|\{[A-Za-z]|list\[|x>=|x<=|<bool>|<str>|<int")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_values_in_words(command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = run_cli([command, "--help"])
    assert result.exit_code == 0, result.stderr
    assert "Usage: metaframe" in result.stdout
    assert not PYTHON_LOOKING.findall(result.stdout), PYTHON_LOOKING.findall(result.stdout)
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_help_of_numbers_says_their_bounds_and_arguments_their_names(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    text = run_cli(["run", "--help"]).stdout
    assert "Usage: metaframe run [OPTIONS] ALGORITHM" in text
    assert re.search(r"--k\s+N \[at least 1\]", text)
    assert "on held-out tasks" not in text  # run's --k is about meta-training; eval's says held-out
    assert "held-out task" in run_cli(["eval", "--help"]).stdout


def test_reproduce_help_keeps_the_pattern_asterisks(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert "score-*-t40-*" in run_cli(["reproduce", "--help"]).stdout

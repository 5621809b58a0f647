"""Docs match the code: every hook and every command option is documented."""

import inspect
import re
from pathlib import Path

from metaframe import hookspecs
from metaframe.cli import core_app
from metaframe.testing import run_cli

DOCS = Path(__file__).parents[1] / "docs"


def test_every_hook_is_documented_with_its_signature():
    text = (DOCS / "reference" / "hooks.md").read_text()
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("register_"):
            parameters = ", ".join(inspect.signature(function).parameters)
            assert f"`{name}({parameters})`" in text, name


def test_every_core_command_option_is_in_the_cli_reference():
    text = (DOCS / "reference" / "cli.md").read_text()
    for command in core_app().registered_commands:
        name = command.name
        help_text = run_cli([name, "--help"]).stdout
        assert f"metaframe {name}" in text, name
        for option in set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help"}:
            assert option in text, f"{name} {option} is not in docs/reference/cli.md"

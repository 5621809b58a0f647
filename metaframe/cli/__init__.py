"""The ``metaframe`` command line: one typer module per command group; plugins add their own commands."""

from __future__ import annotations

import sys

import typer

from metaframe.cli import compare_cmd, eval_cmd, plugins_cmd, run_cmd
from metaframe.errors import UsageError
from metaframe.output import console, error_line

HELP = "Meta-learning for PyTorch: meta-train, personalize and evaluate models from a few examples."


def core_app() -> typer.Typer:
    """The commands metaframe itself provides."""
    app = typer.Typer(
        name="metaframe", help=HELP, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
    )
    app.command("plugins")(plugins_cmd.plugins)
    app.command("run")(run_cmd.run)
    app.command("eval")(eval_cmd.evaluate_command)
    app.command("compare")(compare_cmd.compare)
    return app


def build_app() -> typer.Typer:
    """The full command line: the core commands plus those of every plugin (``register_commands``)."""
    from metaframe.plugins import get_plugins

    app = core_app()
    plugins = get_plugins()
    for impl in plugins.manager.hook.register_commands.get_hookimpls():
        scratch = typer.Typer()
        try:
            impl.function(cli=scratch)
        except Exception as error:  # noqa: BLE001 - a broken plugin must not break the command line
            plugins.fail(impl.plugin_name, error)
            continue
        app.registered_commands += scratch.registered_commands
        app.registered_groups += scratch.registered_groups
    return app


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``metaframe`` console script: user errors are one red line, exit code 2."""
    try:
        result = build_app()(args=argv, prog_name="metaframe", standalone_mode=False)
    except UsageError as error:
        error_line(str(error))
        sys.exit(2)
    except typer.TyperException as error:  # bad option values and the like, from typer's click
        if hasattr(error, "format_message") and type(error).__name__ != "NoArgsIsHelpError":
            error_line(error.format_message())
        elif hasattr(error, "ctx"):
            console.print(error.ctx.get_help())
        sys.exit(getattr(error, "exit_code", 2))
    except (typer.Abort, KeyboardInterrupt):
        error_line("interrupted")
        sys.exit(130)
    if result == 130:  # typer turns Ctrl-C inside a command into exit code 130
        error_line("interrupted")
    sys.exit(result if isinstance(result, int) else 0)

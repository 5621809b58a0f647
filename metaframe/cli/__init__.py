"""The ``metaframe`` command line: one typer module per command group, plugins add their own."""

from __future__ import annotations

import sys

import typer

from metaframe.cli import plugins_cmd, run_cmd
from metaframe.errors import UsageError
from metaframe.output import console_err

app = typer.Typer(
    name="metaframe",
    help="Meta-learning for PyTorch: meta-train, personalize and evaluate models from a few examples.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("plugins")(plugins_cmd.plugins)
app.command("run")(run_cmd.run)
app.command("eval")(run_cmd.evaluate_command)


def build_app() -> typer.Typer:
    """The root app with every plugin's commands added (``register_commands`` hook)."""
    from metaframe.plugins import get_plugins

    plugins = get_plugins()
    plugins.manager.hook.register_commands(cli=app)
    return app


def main() -> None:
    """Entry point of the ``metaframe`` console script: user errors are one red line, exit code 2."""
    try:
        build_app()(standalone_mode=False)
    except UsageError as error:
        console_err.print(f"[bold red]error:[/] {error}", highlight=False)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        console_err.print("[yellow]interrupted[/]")
        sys.exit(130)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except Exception as error:  # click usage errors (bad option value) print one line, exit 2
        import click

        if isinstance(error, click.ClickException):
            error.show()
            sys.exit(error.exit_code)
        raise

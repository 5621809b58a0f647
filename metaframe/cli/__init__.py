"""The ``metaframe`` command line: one typer module per command group; plugins add their own commands."""

from __future__ import annotations

import contextlib
import sys
import traceback
import warnings
from collections.abc import Iterator

import typer

from metaframe import distributed
from metaframe.cli import compare_cmd, eval_cmd, plugins_cmd, reproduce_cmd, run_cmd
from metaframe.cli.help import name_values
from metaframe.errors import OUT_OF_MEMORY, Interrupted, UsageError, os_error_text, out_of_memory
from metaframe.output import console, error_line

HELP = "Meta-learning for PyTorch: meta-train, personalize and evaluate models from a few examples."


def core_app() -> typer.Typer:
    """The commands metaframe itself provides."""
    app = typer.Typer(
        name="metaframe",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="markdown",  # a docstring's paragraphs reflow to the terminal's width
    )
    app.command("plugins")(plugins_cmd.plugins)
    app.command("run")(run_cmd.run)
    app.command("eval")(eval_cmd.evaluate_command)
    app.command("compare")(compare_cmd.compare_command)
    app.command("reproduce")(reproduce_cmd.reproduce_command)
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


def command_line() -> typer._click.Command:
    """The full command line as one command tree, every value named in words (:mod:`metaframe.cli.help`)."""
    command = typer.main.get_command(build_app())
    name_values(command)
    return command


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``metaframe`` console script.

    The one error boundary: an error the user can fix (a :class:`UsageError`, an option typer refuses,
    a path the system refuses, memory that cannot be had) is one red line and exit code 2; Ctrl-C and
    SIGTERM are one line and 130 / 143; anything else is a bug, shown with its traceback and a request
    to report it.
    """
    try:
        with distributed.processes(), warnings_unless_refused():  # torchrun: join the other processes
            result = command_line().main(args=argv, prog_name="metaframe", standalone_mode=False)
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
        result = 130
    except OSError as error:  # a path the system refuses: permissions, a full disk, a name too long
        error_line(os_error_text(error))
        sys.exit(2)
    except (MemoryError, RuntimeError) as error:
        if distributed.lost_peer(error):  # another process of a torchrun job died: one line, not a bug
            error_line(distributed.lost_peer_line(error))
            sys.exit(1)
        if not out_of_memory(error):
            raise_as_bug()
        error_line(OUT_OF_MEMORY)
        sys.exit(2)
    except Exception:  # noqa: BLE001 - the boundary: a genuine bug keeps its traceback
        raise_as_bug()
    if result == 130:  # typer turns Ctrl-C inside a command into exit code 130
        error_line(f"interrupted ({Interrupted.last})")
        sys.exit(143 if Interrupted.last == "SIGTERM" else 130)
    sys.exit(result if isinstance(result, int) else 0)


@contextlib.contextmanager
def warnings_unless_refused() -> Iterator[None]:
    """Hold the warnings a command raises (torch's about a pickle it then refuses, PyAV's about a file it
    cannot read): a refused command prints its one line and nothing else; any other ending shows them."""
    held: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            try:
                yield
            except (UsageError, typer.TyperException, OSError):
                caught.clear()
                raise
            finally:
                held = list(caught)
    finally:
        for warning in held:
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)


def raise_as_bug() -> None:
    """Print the traceback of the exception being handled, say it is a bug, exit 1."""
    traceback.print_exc()
    error_line(
        "this is a bug in metaframe or one of its plugins, not in what you typed; please report it with the "
        "command and the traceback above"
    )
    sys.exit(1)

"""``metaframe plugins``: what is installed and what it registered."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from metaframe.output import console, emit
from metaframe.plugins import Plugins, get_plugins

KINDS = ("algorithms", "models", "tasks", "presets", "experiments", "references")


def listing(plugins: Plugins) -> dict:
    """The JSON document printed by ``metaframe plugins --json``."""
    data: dict = {"plugins": [vars(info) for info in plugins.infos]}
    for kind in KINDS:
        data[kind] = [
            {"name": entry.name, "plugin": entry.plugin, "summary": entry.summary} for entry in getattr(plugins, kind)
        ]
    return data


def plugins(
    as_json: bool = typer.Option(False, "--json", metavar="", help="Print one JSON object instead of tables."),
) -> None:
    """List installed plugins (version, status, error) and the algorithms, models, tasks, presets,
    experiments and references (predictors that learn nothing) they add."""
    loaded = get_plugins()
    if as_json:
        emit(json.dumps(listing(loaded), indent=2))
        return
    table = Table(title="plugins")
    for column in ("name", "version", "status", "error"):
        table.add_column(column)
    for info in loaded.infos:
        status = "[green]ok[/]" if info.status == "ok" else "[red]failed[/]"
        table.add_row(info.name, info.version, status, info.error or "")
    console.print(table)
    for kind in KINDS:
        table = Table(title=kind)
        for column in ("name", "plugin", "summary"):
            table.add_column(column)
        for entry in getattr(loaded, kind):
            table.add_row(entry.name, entry.plugin, entry.summary)
        console.print(table)

"""The options ``run``, ``compare`` and ``eval`` share, declared once (so that their ``--help`` cannot
drift apart); :func:`metaframe.resolve.resolve` turns them into a run configuration.

Each ``*Option`` is a typed ``Annotated`` alias: a command writes ``k: KOption = None`` (leaving out the
default would make typer require the option).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from metaframe.config import Settings
from metaframe.errors import UsageError

LISTED = "`metaframe plugins` lists them"

SET_HELP = (
    "Override one setting: KEY=VALUE for engine settings (k, t, seed, checkpoint_every, sample_every, "
    "inner_schedule, ...) or algorithm.KEY / model.KEY / task.KEY for a plugin's options "
    "(e.g. model.scale=tiny). Repeatable."
)
CONFIG_HELP = (
    "A TOML file: engine settings at top level or in a run table; plugin options in algorithm, model "
    "and task tables (see docs/reference/configuration.md)."
)
DEVICE_HELP = "Where to compute: auto (CUDA when present), cpu, cuda or cuda:N."
PRESET_HELP = (
    "A named configuration (see `metaframe plugins`). Default: the preset registered for this "
    "algorithm, model and task, if any."
)

ModelOption = Annotated[
    str | None,
    typer.Option("--model", "-m", metavar="NAME", help=f"Task model, by registered name ({LISTED})."),
]
TaskOption = Annotated[
    str | None,
    typer.Option("--task", metavar="NAME", help=f"Task family, by registered name ({LISTED})."),
]
TRAIN_DEFAULT = "the preset's, else {}; with --resume, the run's"
EVAL_DEFAULT = "the first --init run folder's, else the preset's, else {}"
SEED_HELP = "Seeds task sampling, initialization and personalization: equal seeds give equal results on the CPU."


def number_option(name: str, help: str, minimum: int | None = 1) -> Any:
    """A typer option for a whole number (``N`` in ``--help``), at least ``minimum``."""
    return typer.Option(name, min=minimum, metavar="N", help=help)


KOption = Annotated[
    int | None,
    number_option(
        "--k",
        "Support examples per task (K), in meta-training and when its samples are personalized. "
        f"Default: {TRAIN_DEFAULT.format(Settings.k)}.",
    ),
]
TOption = Annotated[
    int | None,
    number_option(
        "--t",
        "Inner (personalization) iterations per task (T), in meta-training and for its samples. "
        f"Default: {TRAIN_DEFAULT.format(Settings.t)}.",
    ),
]
SeedOption = Annotated[
    int | None,
    number_option("--seed", f"{SEED_HELP} Default: {TRAIN_DEFAULT.format(Settings.seed)}.", minimum=None),
]
EvalKOption = Annotated[
    int | None,
    number_option("--k", f"Support examples per held-out task (K). Default: {EVAL_DEFAULT.format(Settings.k)}."),
]
EvalTOption = Annotated[
    int | None,
    number_option(
        "--t",
        "Personalization iterations on each held-out task (T); 0 scores the weights as given, not "
        f"personalized. Default: {EVAL_DEFAULT.format(Settings.t)}.",
        minimum=0,
    ),
]
EvalSeedOption = Annotated[
    int | None,
    number_option("--seed", f"{SEED_HELP} Default: {EVAL_DEFAULT.format(Settings.seed)}.", minimum=None),
]
MetaIterationsOption = Annotated[
    int | None,
    typer.Option(
        "--meta-iterations",
        min=0,
        help=f"Outer steps (meta-iterations). Default: the preset's, else {Settings.meta_iterations}; "
        "with run --resume, the run's (a larger number extends it). 0 trains nothing: the run folder holds the "
        "starting weights (e.g. the model's shipped ones), for eval and the plugins' commands.",
    ),
]
MetaBatchOption = Annotated[
    int | None,
    typer.Option(
        "--meta-batch",
        min=1,
        help="Tasks per outer step (the meta-batch); the algorithm combines what it learns from each. "
        f"Default: the preset's, else {Settings.meta_batch}.",
    ),
]
InitOption = Annotated[
    Path | None,
    typer.Option("--init", help="Start meta-training from these weights: a run folder or a .safetensors file."),
]
PresetOption = Annotated[str | None, typer.Option("--preset", metavar="NAME", help=PRESET_HELP)]
ConfigOption = Annotated[Path | None, typer.Option("--config", help=CONFIG_HELP, dir_okay=False)]
SetOption = Annotated[list[str] | None, typer.Option("--set", metavar="KEY=VALUE", help=SET_HELP)]
DeviceOption = Annotated[str | None, typer.Option("--device", help=DEVICE_HELP)]
JsonOption = Annotated[
    Path | None,
    typer.Option("--json", help="Also write the results (one row per init, with each task's scores) to this file."),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", metavar="", help="No progress bars.")]


def check_json_out(path: Path | None) -> None:
    """Refuse, before any work, a ``--json`` path that is a folder."""
    if path is not None and path.is_dir():
        raise UsageError(f"--json {path} is a folder; give a file name, e.g. {path / 'results.json'}")

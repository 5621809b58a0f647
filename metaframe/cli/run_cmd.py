"""``metaframe run``: meta-train a model on a family of tasks with an outer algorithm (:func:`metaframe.run`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from metaframe.build import announce
from metaframe.cli.options import (
    LISTED,
    ConfigOption,
    DeviceOption,
    InitOption,
    KOption,
    MetaBatchOption,
    MetaIterationsOption,
    ModelOption,
    PresetOption,
    QuietOption,
    SeedOption,
    SetOption,
    TaskOption,
    TOption,
)
from metaframe.output import console
from metaframe.plugins import get_plugins
from metaframe.protocols import Capability
from metaframe.references import references
from metaframe.run_folder import RunFolder
from metaframe.runs import RunArguments, finish, prepare


def run(
    algorithm: Annotated[str, typer.Argument(help=f"Outer algorithm, by registered name ({LISTED}).")],
    model: ModelOption = None,
    task: TaskOption = None,
    preset: PresetOption = None,
    config: ConfigOption = None,
    assignments: SetOption = None,
    meta_iterations: MetaIterationsOption = None,
    meta_batch: MetaBatchOption = None,
    k: KOption = None,
    t: TOption = None,
    init: InitOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Run folder to write (default: runs/ALGORITHM-MODEL-TASK-TIME).")
    ] = None,
    seed: SeedOption = None,
    device: DeviceOption = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            metavar="",
            help="Continue the run in --out from its last checkpoint, as it was configured (only "
            "--meta-iterations, to extend it, and --device may change).",
        ),
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Meta-train MODEL on TASK with ALGORITHM and write the run folder.

    The folder holds model.safetensors (meta-learned weights), run.json (configuration and provenance),
    metrics.jsonl, resume.pt and, for models that draw, samples/*.png.

    With --resume, every setting (model and task included) is the run's own.

    Under torchrun (torchrun --nproc_per_node N -m metaframe run ...) N processes share each meta-batch
    and process 0 writes the folder: docs/howto/distributed.md.
    """
    plugins = get_plugins()
    explicit: dict[str, Any] = {"meta_batch": meta_batch, "k": k, "t": t, "seed": seed}
    request = RunArguments(
        algorithm=algorithm,
        model=model,
        task=task,
        preset=preset,
        config=config,
        settings=None,
        overrides=assignments or [],
        explicit=explicit,
        meta_iterations=meta_iterations,
        device=device,
        init=init,
        out=out,
        resume=resume,
    )
    training = prepare(plugins, request)
    announce(plugins, training.setup.config, training.setup.model)
    result = finish(training, show_progress=not quiet)
    settings = result.config.settings
    metrics = RunFolder(result.path).metrics
    logged = f"metrics in {metrics}" if metrics.is_file() else "no metrics (no meta-iteration ran)"
    console.print(f"\n[bold green]done[/]: weights in {result.weights}, {logged}")
    # a model that scores predictions made elsewhere is read against the references that learn nothing
    named = references(plugins) if Capability.PREDICTIONS in training.setup.model.capabilities else {}
    baselines = " ".join(f"--init {name}" for name in named) or "--init random"
    console.print(
        f"next: [bold]metaframe eval --init {result.path} {baselines} --k {settings.k} --t {settings.t}[/]"
        f"  (personalize on held-out tasks and score them)"
    )

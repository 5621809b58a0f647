"""Build a :class:`~metaframe.config.Config` into live objects: a :class:`Setup` (the task sampler and the
model, on one device), then the outer algorithm; every check between them is made here, before step 0."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from rich.markup import escape

from metaframe import distributed
from metaframe.batch_contract import check_batch_keys
from metaframe.capabilities import check_declared, check_task_declared, not_capabilities
from metaframe.config import Config
from metaframe.errors import UsageError
from metaframe.output import say
from metaframe.plugins import Plugins
from metaframe.protocols import Capability, OuterAlgorithm, TaskModel, TaskSampler


@dataclass
class Setup:
    """A configuration built: its task sampler and its model, on one device; what a training, an evaluation or
    a plugin's command works with (a training adds the algorithm and the run folder:
    :class:`metaframe.training.Training`)."""

    config: Config
    sampler: TaskSampler
    model: TaskModel
    device: torch.device


def resolve_device(choice: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; asking for CUDA without one is a UsageError. Under
    torchrun, ``auto`` and ``cuda`` mean the process's own GPU, ``cuda:LOCAL_RANK``."""
    if choice == "auto":
        return distributed.place(torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"--device {choice}: this machine has no CUDA device; use --device cpu or auto")
    try:
        return distributed.place(torch.device(choice))
    except RuntimeError:
        raise UsageError(f"--device must be auto, cpu, cuda or cuda:N, got {choice!r}") from None


def check_requirements(
    algorithm: str, requires: frozenset[Capability], model: str, capabilities: frozenset[Capability]
) -> None:
    """Refuse, before step 0, an algorithm whose requirements the model does not declare (or that are not
    :class:`Capability` values)."""
    if strings := not_capabilities(requires, "requires"):
        raise UsageError(f"algorithm {algorithm!r} {strings[0]}")
    missing = sorted(set(requires) - set(capabilities))
    if missing:
        raise UsageError(
            f"algorithm {algorithm!r} needs the model capability {', '.join(map(str, missing))}, which model {model!r} "
            f"does not declare; pick an algorithm that does not need it (`metaframe plugins` lists them)"
        )


def available_memory() -> int | None:
    """Bytes of memory the machine has free (Linux's MemAvailable), or None where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check_memory(model: TaskModel, k: int, name: str) -> None:
    """Refuse up front a K whose inner step the model estimates at more memory than is free."""
    needed, free = model.memory_estimate(k), available_memory()
    if needed is not None and free is not None and needed > free:
        raise UsageError(
            f"one inner step of model {name} at K={k} needs about {needed / 2**30:.1f} GiB, more than the "
            f"{free / 2**30:.1f} GiB this machine has free; use a smaller --k, or model or task options that "
            "need less memory"
        )


def build_setup(config: Config, plugins: Plugins, load: bool = True) -> Setup:
    """Build the sampler, the (seeded) model for its ``info``, check that the model's needed batch keys are
    what the task yields, then let the sampler load its data."""
    device = resolve_device(config.settings.device)
    sampler = plugins.tasks.get(config.task).build(config.options["task"], k=config.settings.k)
    check_task_declared(config.task, sampler)
    torch.manual_seed(config.settings.seed)
    model = plugins.models.get(config.model).build(config.options["model"], sampler.info)
    check_batch_keys(config.task, sampler.batch_keys, config.model, model.needs_keys)
    check_declared(config.model, model)
    check_memory(model, config.settings.k, config.model)
    if load:  # without: only the model, for checks that need no data (compare's preflight)
        with distributed.local_leader_first():  # one process per machine fills a shared cache
            sampler.load()
    return Setup(config, sampler, model.to(device), device)


def build_algorithm(setup: Setup, plugins: Plugins) -> OuterAlgorithm:
    """Build the outer algorithm after checking that the model offers what it requires."""
    config = setup.config
    entry = plugins.algorithms.get(config.algorithm)
    capabilities = frozenset(setup.model.capabilities)
    check_requirements(config.algorithm, entry.requires, config.model, capabilities)
    algorithm = entry.build(config.options["algorithm"], setup.model, config.settings)
    check_requirements(config.algorithm, frozenset(algorithm.requires), config.model, capabilities)
    return algorithm


def provenance(
    plugins: Plugins, config: Config, model: TaskModel, algorithm: OuterAlgorithm | None = None
) -> dict[str, Any]:
    """Which plugins (and versions) built this run, and what the model and the algorithm want recorded."""
    names = {
        "algorithm": plugins.algorithms.get(config.algorithm).plugin,
        "model": plugins.models.get(config.model).plugin,
        "task": plugins.tasks.get(config.task).plugin,
    }
    versions = plugins.versions()
    return {
        "plugins": {role: {"name": name, "version": versions.get(name)} for role, name in names.items()},
        "torch": torch.__version__,
        "device": str(model.device),
        "model_notes": dict(model.notes),
        "algorithm_notes": algorithm.describe() if algorithm is not None else {},
    }


def announce(plugins: Plugins, config: Config, model: TaskModel | None = None) -> None:
    """Once a run or an evaluation has started: say which preset it uses and the model's notes (e.g.
    which weights it loaded), so that a refused command stays one line."""
    if config.preset is not None:
        say(f"using preset [bold]{config.preset}[/] ({plugins.presets.get(config.preset).summary})")
    for key, note in (model.notes if model is not None else {}).items():
        say(f"{config.model}: {key.replace('_', ' ')}: {escape(note)}")

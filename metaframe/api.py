"""The public API for plugins: everything a plugin imports from metaframe, in one module.

A plugin (metaframe's own included) writes ``from metaframe.api import ...`` and nothing else from
metaframe; its tests may also use :mod:`metaframe.testing`. Every name below is documented in
``docs/reference/plugin-api.md``, and a test keeps both true. The modules these names come from may
be reorganized; this module is the promise.
"""

from __future__ import annotations

from metaframe.checkpoint import (
    atomic_write,
    check_tensors,
    current_umask,
    load_weights,
    weights_metadata,
    write_json,
    write_weights,
)
from metaframe.config import NoOptions, Preset, RunSettings, parse_options
from metaframe.errors import UsageError
from metaframe.evaluation import personalizer, trained_session
from metaframe.experiment import Given, HeldOut, Render, Request, Results, Score, Train
from metaframe.factories import AlgorithmFactory, ModelFactory, ReferenceFactory, TaskFactory
from metaframe.functional import functional_adapt
from metaframe.hookspecs import Register, hookimpl
from metaframe.loop import adapt, inner_lr_factor
from metaframe.output import console, console_err, emit, say
from metaframe.params import (
    DifferentiableAdam,
    DifferentiableSGD,
    FunctionalOptimizer,
    OptimizerSpec,
    State,
    accumulate,
    average,
    interpolate,
    named_parameters,
    of_network,
    restore,
    scale,
    select,
    snapshot,
    strip_prefix,
)
from metaframe.progress import ProgressStage
from metaframe.protocols import (
    Batch,
    BatchKeys,
    Capability,
    OuterAlgorithm,
    Shape,
    Task,
    TaskModel,
    TaskSampler,
    batch_size,
    batch_to,
)
from metaframe.registry import Entry
from metaframe.scoring import Personalize
from metaframe.session import Session

__all__ = [
    # hooks and registration
    "AlgorithmFactory",
    "Entry",
    "ModelFactory",
    "ReferenceFactory",
    "Register",
    "TaskFactory",
    "hookimpl",
    # the contracts
    "Batch",
    "BatchKeys",
    "Capability",
    "OuterAlgorithm",
    "Shape",
    "Task",
    "TaskModel",
    "TaskSampler",
    "batch_size",
    "batch_to",
    # experiments (metaframe reproduce)
    "Given",
    "HeldOut",
    "Render",
    "Request",
    "Results",
    "Score",
    "Train",
    # configuration
    "NoOptions",
    "Preset",
    "RunSettings",
    "parse_options",
    # errors
    "UsageError",
    # personalization
    "Personalize",
    "Session",
    "adapt",
    "functional_adapt",
    "inner_lr_factor",
    "personalizer",
    "trained_session",
    # parameter maths
    "State",
    "DifferentiableAdam",
    "DifferentiableSGD",
    "FunctionalOptimizer",
    "OptimizerSpec",
    "accumulate",
    "average",
    "interpolate",
    "named_parameters",
    "of_network",
    "restore",
    "scale",
    "select",
    "snapshot",
    "strip_prefix",
    # files
    "atomic_write",
    "check_tensors",
    "current_umask",
    "load_weights",
    "weights_metadata",
    "write_json",
    "write_weights",
    # output
    "console",
    "console_err",
    "emit",
    "ProgressStage",
    "say",
]

REMOVED = {name: f"Capability.{name}" for name in ("FUNCTIONAL", "PREDICTIONS", "RENDER", "SAMPLES", "SHOW")}
"""Names this module exported before 0.2.0, with what replaced them."""


def __getattr__(name: str) -> object:
    """A removed name fails the plugin that imports it, in one line naming its replacement (``from
    metaframe.api import FUNCTIONAL`` raises this ImportError as it is, not Python's bare one)."""
    if name in REMOVED:
        raise ImportError(
            f"metaframe.api.{name} was removed in 0.2.0: capabilities are Capability values, not strings; "
            f"write {REMOVED[name]} (from metaframe.api import Capability)"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The public API for plugins: everything a plugin imports from metaframe, in one module.

A plugin (metaframe's own included) writes ``from metaframe.api import ...`` and nothing else from
metaframe; its tests may also use :mod:`metaframe.testing`. Every name below is documented in
``docs/reference/plugin-api.md``, and a test keeps both true. The modules these names come from may
be reorganized; this module is the promise.
"""

from __future__ import annotations

import typing

from metaframe.build import Setup
from metaframe.checkpoint import (
    atomic_write,
    check_tensors,
    current_umask,
    load_weights,
    weights_metadata,
    write_json,
    write_weights,
)
from metaframe.config import NoOptions, Preset, Settings, parse_options
from metaframe.errors import UsageError, as_usage_errors, check_counts
from metaframe.evaluation import personalizer, trained_setup
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
from metaframe.plugins import Plugins
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
from metaframe.quantize import to_uint8
from metaframe.references import reference
from metaframe.registry import Entry
from metaframe.runs import RunResult, run
from metaframe.scoring import Personalize

__all__ = [
    # hooks and registration
    "AlgorithmFactory",
    "Entry",
    "ModelFactory",
    "Plugins",
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
    "Settings",
    "parse_options",
    # errors
    "UsageError",
    "as_usage_errors",
    "check_counts",
    # driving the engine
    "RunResult",
    "run",
    "reference",
    # personalization
    "Personalize",
    "Setup",
    "adapt",
    "functional_adapt",
    "inner_lr_factor",
    "personalizer",
    "trained_setup",
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
    "to_uint8",
    # output
    "console",
    "console_err",
    "emit",
    "ProgressStage",
    "say",
]

REMOVED = {name: f"Capability.{name}" for name in ("FUNCTIONAL", "PREDICTIONS", "RENDER", "SAMPLES", "SHOW")}
"""Names this module exported before 0.2.0, with what replaced them."""

RENAMED = {"RunSettings": "Settings", "Session": "Setup", "trained_session": "trained_setup"}
"""Names this module exported before 0.2.0 under another name: importing one fails in one line naming the new one."""

if not typing.TYPE_CHECKING:  # a type checker seeing a module __getattr__ would accept any name from here

    def __getattr__(name: str) -> object:
        """A removed or renamed name fails the plugin that imports it, in one line naming its replacement
        (ImportError, not AttributeError: ``from metaframe.api import X`` would replace the latter's message)."""
        if name in REMOVED:
            raise ImportError(
                f"metaframe.api.{name} was removed in 0.2.0: capabilities are Capability values, not strings; "
                f"write {REMOVED[name]} (from metaframe.api import Capability)",
                name=name,
            )
        if name in RENAMED:
            new = RENAMED[name]
            raise ImportError(f"metaframe.api.{name} was renamed {new} in 0.2.0; use {new}", name=name)
        raise AttributeError(f"module 'metaframe.api' has no attribute {name!r}")

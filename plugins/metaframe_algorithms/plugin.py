"""Registers the built-in outer algorithms through the same hook third-party plugins use: each class is
its own factory, ``Algorithm(options, model, settings)`` (the engine parses the options dataclass first)."""

from __future__ import annotations

from metaframe.api import AlgorithmFactory, OuterAlgorithm, Register, hookimpl
from metaframe_algorithms.fomaml import FOMAML, FOMAMLOptions
from metaframe_algorithms.maml import MAML, MAMLOptions
from metaframe_algorithms.pretrain import Pretrain, PretrainOptions
from metaframe_algorithms.reptile import Reptile, ReptileOptions

ALGORITHMS: dict[str, tuple[type[OuterAlgorithm], type]] = {
    "reptile": (Reptile, ReptileOptions),
    "fomaml": (FOMAML, FOMAMLOptions),
    "maml": (MAML, MAMLOptions),
    "pretrain": (Pretrain, PretrainOptions),
}


@hookimpl
def register_algorithms(register: Register[AlgorithmFactory]) -> None:
    for name, (algorithm, options_type) in ALGORITHMS.items():
        register(name, algorithm, requires=algorithm.requires, options=options_type)

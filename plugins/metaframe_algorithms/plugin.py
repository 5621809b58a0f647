"""Registers the built-in outer algorithms through the same hook third-party plugins use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from metaframe.api import OuterAlgorithm, Register, RunSettings, TaskModel, hookimpl, parse_options
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


def factory(algorithm: type[OuterAlgorithm], options_type: type) -> Callable[..., OuterAlgorithm]:
    """A registry factory building ``algorithm`` from its option table."""

    def build(options: dict[str, Any], model: TaskModel, settings: RunSettings) -> OuterAlgorithm:
        return algorithm(parse_options(options_type, options, "algorithm"), model, settings)

    build.__doc__ = algorithm.__doc__
    return build


@hookimpl
def register_algorithms(register: Register) -> None:
    for name, (algorithm, options_type) in ALGORITHMS.items():
        register(name, factory(algorithm, options_type), requires=algorithm.requires, options=options_type)

"""Registers the built-in outer algorithms through the same hook third-party plugins use."""

from __future__ import annotations

from typing import Any

from metaframe import hookimpl
from metaframe.config import RunSettings, parse_options
from metaframe.hookspecs import Register
from metaframe.protocols import OuterAlgorithm, TaskModel
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


def factory(algorithm: type[OuterAlgorithm], options_type: type) -> Any:
    """A registry factory building ``algorithm`` from its option table."""

    def build(options: dict[str, Any], model: TaskModel, settings: RunSettings) -> OuterAlgorithm:
        return algorithm(parse_options(options_type, options, "algorithm"), model, settings)

    build.__doc__ = algorithm.__doc__
    build.options = options_type  # type: ignore[attr-defined]
    build.requires = algorithm.requires  # type: ignore[attr-defined]
    return build


@hookimpl
def register_algorithms(register: Register) -> None:
    for name, (algorithm, options_type) in ALGORITHMS.items():
        register(name, factory(algorithm, options_type))

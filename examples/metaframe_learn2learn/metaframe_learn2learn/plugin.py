"""The plugin module named by the ``metaframe`` entry point: registers ``l2l-maml`` and ``l2l-metasgd``.

Importing it loads learn2learn's algorithms; without learn2learn the import fails with the recipe, and
``metaframe plugins`` shows the plugin as failed with that line, registering nothing.
"""

from __future__ import annotations

from typing import Any

from metaframe.api import Register, RunSettings, TaskModel, hookimpl, parse_options
from metaframe_learn2learn.algorithms import (
    Learn2LearnAlgorithm,
    Learn2LearnMAML,
    Learn2LearnMetaSGD,
    Learn2LearnOptions,
)

ALGORITHMS: dict[str, type[Learn2LearnAlgorithm]] = {"l2l-maml": Learn2LearnMAML, "l2l-metasgd": Learn2LearnMetaSGD}


def factory(algorithm: type[Learn2LearnAlgorithm]) -> Any:
    """A registry factory building ``algorithm`` from its option table."""

    def build(options: dict[str, Any], model: TaskModel, settings: RunSettings) -> Learn2LearnAlgorithm:
        return algorithm(parse_options(Learn2LearnOptions, options, "algorithm"), model, settings)

    build.__doc__ = algorithm.__doc__
    return build


@hookimpl
def register_algorithms(register: Register) -> None:
    for name, algorithm in ALGORITHMS.items():
        register(name, factory(algorithm), requires=algorithm.requires, options=Learn2LearnOptions)

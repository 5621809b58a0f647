"""The plugin module named by the ``metaframe`` entry point: registers ``l2l-maml`` and ``l2l-metasgd``.

Importing it loads learn2learn's algorithms; without learn2learn the import fails with the recipe, and
``metaframe plugins`` shows the plugin as failed with that line, registering nothing.
"""

from __future__ import annotations

from metaframe.api import AlgorithmFactory, Register, hookimpl
from metaframe_learn2learn.algorithms import (
    Learn2LearnAlgorithm,
    Learn2LearnMAML,
    Learn2LearnMetaSGD,
    Learn2LearnOptions,
)

ALGORITHMS: dict[str, type[Learn2LearnAlgorithm]] = {"l2l-maml": Learn2LearnMAML, "l2l-metasgd": Learn2LearnMetaSGD}


@hookimpl
def register_algorithms(register: Register[AlgorithmFactory]) -> None:
    # each class is its own factory: Algorithm(options, model, settings), the options parsed by the engine
    for name, algorithm in ALGORITHMS.items():
        register(name, algorithm, requires=algorithm.requires, options=Learn2LearnOptions)

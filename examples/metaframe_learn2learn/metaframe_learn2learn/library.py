"""learn2learn's ``MAML`` and ``MetaSGD`` classes, loaded without the rest of learn2learn.

``import learn2learn.algorithms`` runs ``learn2learn/__init__.py`` first (Python runs a package's
``__init__`` before any submodule), and that imports gym, torchvision, its datasets and its Lightning
wrappers; the torchvision wheels on PyPI need a CUDA build of torch. The two algorithms need only torch:
they live in four files, which are loaded here by path under their own names. The stand-in parent
packages exist only while those files load, so ``sys.modules`` is left as it was and other code that
imports the whole library is unaffected.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from pathlib import Path

RECIPE = "examples/metaframe_learn2learn/README.md"
FILES = {  # module (under learn2learn.) -> its file; in import order
    "utils": "utils/__init__.py",
    "algorithms.base_learner": "algorithms/base_learner.py",
    "algorithms.maml": "algorithms/maml.py",
    "algorithms.meta_sgd": "algorithms/meta_sgd.py",
}


def learn2learn_root() -> Path:
    """The folder of the installed ``learn2learn`` package, found without importing it."""
    spec = importlib.util.find_spec("learn2learn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"learn2learn is not installed; install 0.2.0 with the recipe in {RECIPE} "
            "(plain pip cannot build it on Python 3.11 and would pull a CUDA torch)",
            name="learn2learn",
        )
    return Path(next(iter(spec.submodule_search_locations)))


@contextlib.contextmanager
def stand_in_packages(root: Path) -> Iterator[None]:
    """Empty ``learn2learn`` and ``learn2learn.algorithms`` packages while the block runs; afterwards
    every ``learn2learn`` entry of ``sys.modules`` is as it was before."""
    before = {name: module for name, module in sys.modules.items() if name.partition(".")[0] == "learn2learn"}
    for name, folder in (("learn2learn", root), ("learn2learn.algorithms", root / "algorithms")):
        package = types.ModuleType(name)
        package.__path__ = [str(folder)]
        sys.modules[name] = package
    try:
        yield
    finally:
        for name in [name for name in sys.modules if name.partition(".")[0] == "learn2learn"]:
            del sys.modules[name]
        sys.modules.update(before)


def load_file(name: str, path: Path) -> types.ModuleType:
    """Execute the source file ``path`` as module ``name`` (registered, so later files can import it)."""
    if not path.is_file():
        raise ModuleNotFoundError(f"learn2learn has no {path.name} where 0.2.0 has it ({path}); install 0.2.0")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, f"{path} is a Python source file"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load() -> tuple[type, type]:
    """learn2learn's ``MAML`` and ``MetaSGD`` classes, loaded from its files alone (also where the whole
    library imports: one way in, whatever else is installed)."""
    root = learn2learn_root()
    with stand_in_packages(root):
        modules = {key: load_file(f"learn2learn.{key}", root / path) for key, path in FILES.items()}
    return modules["algorithms.maml"].MAML, modules["algorithms.meta_sgd"].MetaSGD


MAML, MetaSGD = load()

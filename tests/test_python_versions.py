"""The Python versions metaframe declares are the ones it works on.

``requires-python`` in pyproject.toml is checked against what the code uses (syntax and standard library,
as ``vermin`` reads them): a package that needs a newer Python than it declares would install there and
fail at import (``tomllib`` is 3.11's). The README says the same versions, and ruff lints for them.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def declared_minimum() -> str:
    """The ``X.Y`` of ``requires-python = ">=X.Y"``."""
    match = re.fullmatch(r">=\s*(3\.\d+)", PYPROJECT["project"]["requires-python"])
    assert match, "requires-python should be a plain lower bound, >=3.N"
    return match[1]


def test_the_code_needs_no_newer_python_than_it_declares():
    minimum = declared_minimum()
    command = [sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())"]
    options = ["--no-tips", "--eval-annotations", "--violations", f"-t={minimum}-"]
    result = subprocess.run([*command, *options, "metaframe", "plugins"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"requires-python says >={minimum}, but the code needs more:\n{result.stdout}"


def test_the_readme_and_ruff_name_the_declared_minimum():
    minimum = declared_minimum()
    readme = (ROOT / "README.md").read_text()
    assert f"Python {minimum}" in readme, f"README.md should say that metaframe needs Python {minimum} or newer"
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py" + minimum.replace(".", "")

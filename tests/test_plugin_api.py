"""The public plugin API: plugins and examples reach metaframe only through ``metaframe.api`` (their tests
also through ``metaframe.testing``), every public name is documented, and the core imports no plugin."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

import metaframe.api
import metaframe.testing
from metaframe import hookspecs
from metaframe.registry import Registrar
from tests.signatures import documented_parts, real_parts, signature_spans, written

ROOT = Path(__file__).parents[1]
API_PAGE = ROOT / "docs" / "reference" / "plugin-api.md"
HOOKS_PAGE = ROOT / "docs" / "reference" / "hooks.md"
PUBLIC = {"metaframe.api"}
FOR_TESTS = {"metaframe.testing"}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in ``path``; ``from metaframe import x`` counts as ``metaframe.x``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "metaframe":
            found += [(node.lineno, f"metaframe.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def private_metaframe_imports(path: Path, root: Path = ROOT) -> list[str]:
    """``FILE:LINE imports MODULE`` for each metaframe module ``path`` may not import."""
    relative = path.relative_to(root)
    allowed = PUBLIC | (FOR_TESTS if "tests" in relative.parts[1:] else set())
    return [
        f"{relative}:{line} imports {module}"
        for line, module in imported_modules(path)
        if (module == "metaframe" or module.startswith("metaframe.")) and module not in allowed
    ]


def plugin_files() -> list[Path]:
    """Every Python file a plugin author wrote: the built-in plugins, the examples, the fixture plugins."""
    return sorted(p for folder in ("plugins", "examples", "tests/plugins") for p in (ROOT / folder).rglob("*.py"))


def test_plugins_and_examples_import_metaframe_only_through_its_api():
    files = plugin_files()
    assert len(files) > 20, "the plugin folders were not found"
    wrong = [problem for path in files for problem in private_metaframe_imports(path)]
    assert not wrong, "use metaframe.api instead:\n" + "\n".join(wrong)


def test_the_import_check_sees_every_way_of_importing(tmp_path):
    (tmp_path / "pkg" / "tests").mkdir(parents=True)
    source = (
        "import metaframe.loop\nfrom metaframe import hookimpl\nfrom metaframe.protocols import Task\n"
        "from metaframe.api import adapt\nfrom metaframe.testing import run_cli\nfrom metaframe_video import task\n"
        "from . import sibling\ndef later():\n    from metaframe.errors import UsageError\n"
    )
    for where in ("pkg/plugin.py", "pkg/tests/test_plugin.py"):
        (tmp_path / where).write_text(source)
    lines = [
        problem.split(" ")[0].split(":")[1]
        for problem in private_metaframe_imports(tmp_path / "pkg/plugin.py", tmp_path)
    ]
    assert lines == ["1", "2", "3", "5", "9"]
    in_tests = private_metaframe_imports(tmp_path / "pkg/tests/test_plugin.py", tmp_path)
    assert [problem.split(" imports ")[1] for problem in in_tests] == [
        "metaframe.loop",
        "metaframe.hookimpl",
        "metaframe.protocols",
        "metaframe.errors",
    ]


def test_every_public_name_is_documented_on_the_plugin_api_page():
    text = API_PAGE.read_text()
    for module in (metaframe.api, metaframe.testing):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.__all__ names {name}, which it lacks"
            assert f"`{name}`" in text, f"{module.__name__}.{name} is not documented in {API_PAGE.name}"


def test_the_api_exports_every_name_it_imports():
    tree = ast.parse(Path(metaframe.api.__file__).read_text())
    imported = {alias.name for node in tree.body if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert imported - {"annotations"} == set(metaframe.api.__all__)


def test_the_core_imports_no_plugin():
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / "metaframe").rglob("*.py"))
        for line, module in imported_modules(path)
        if module.startswith("metaframe_")
    ]
    assert not found, "the core must not know its plugins:\n" + "\n".join(found)


def documented_objects() -> dict[str, Any]:
    """Every name the reference pages document a signature of: the plugin API, the test helpers, the hooks."""
    names = {name: getattr(module, name) for module in (metaframe.api, metaframe.testing) for name in module.__all__}
    return names | {name: f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if name != "hookspec"}


@pytest.mark.parametrize("page", [API_PAGE, HOOKS_PAGE], ids=lambda page: page.name)
def test_every_documented_signature_is_the_code_s(page):
    """Parameters, their kinds, defaults and annotations as the source writes them, and the return type."""
    checked = list(signature_spans(page.read_text(), documented_objects()))
    assert len(checked) > 10, f"{page.name}: the signatures were not found"
    wrong = [
        f"{span}\n    the code: {written(owner, name)}"
        for _, owner, name, span in checked
        if documented_parts(span)[1] != real_parts(owner, name)
    ]
    assert not wrong, f"{page.name} documents signatures the code does not have:\n" + "\n".join(wrong)


def test_every_public_function_and_hook_has_its_signature_documented():
    objects = documented_objects()
    documented = {
        name for page in (API_PAGE, HOOKS_PAGE) for _, _, name, _ in signature_spans(page.read_text(), objects)
    }
    missing = sorted(name for name, obj in objects.items() if inspect.isfunction(obj) and name not in documented)
    assert not missing, f"no signature documented for {', '.join(missing)}"


def test_the_register_signature_the_hooks_page_shows_is_the_registrar_s():
    blocks = re.findall(r"```python\n(register\(.*?)\n```", HOOKS_PAGE.read_text(), re.DOTALL)
    assert [documented_parts(block)[1] for block in blocks] == [real_parts(Registrar, "register")]


def test_the_signature_check_sees_a_changed_parameter_default_or_annotation():
    real = real_parts(metaframe.api.adapt, "adapt")
    span = written(metaframe.api.adapt, "adapt")
    assert documented_parts(span)[1] == real
    for changed in (
        span.replace("steps: int", "steps: float"),  # an annotation
        span.replace("= False", "= True"),  # a default
        span.replace(", *, personal: bool = False", ""),  # a parameter
        span.replace("*, personal", "personal"),  # a kind
        span.replace("-> list[dict[str, float]]", "-> None"),  # the return type
    ):
        assert changed != span and documented_parts(changed)[1] != real, changed


@pytest.mark.parametrize("old, new", sorted(metaframe.api.RENAMED.items()))
def test_a_name_renamed_in_0_2_fails_in_one_line_naming_its_replacement(old, new):
    with pytest.raises(ImportError) as raised:
        exec(f"from metaframe.api import {old}", {})
    assert str(raised.value) == f"metaframe.api.{old} was renamed {new} in 0.2.0; use {new}"
    assert new in metaframe.api.__all__
    with pytest.raises(AttributeError):
        metaframe.api.no_such_name  # noqa: B018 - an unknown name is still an AttributeError

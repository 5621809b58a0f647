import pytest

from metaframe.errors import PluginError, UsageError
from metaframe.registry import Registry


def test_unknown_name_suggests_the_closest():
    registry = Registry("algorithm")
    for name in ("reptile", "fomaml", "maml"):
        registry.add(name, object, "summary", "builtin")
    with pytest.raises(UsageError, match=r"unknown algorithm 'reptil'; did you mean reptile\?"):
        registry.get("reptil")


def test_unknown_name_without_close_match_lists_known():
    registry = Registry("task")
    registry.add("sine", object, "", "toy")
    with pytest.raises(UsageError, match="known: sine"):
        registry.get("zzzzzz")


def test_duplicate_names_both_plugins():
    registry = Registry("model")
    registry.add("mlp", object, "", "first")
    with pytest.raises(PluginError, match="'mlp' is registered by both plugin 'first' and 'second'"):
        registry.add("mlp", object, "", "second")


@pytest.mark.parametrize("name", ["Upper", "with space", "-lead", "trail-", ""])
def test_malformed_names_are_refused(name):
    with pytest.raises(PluginError, match="names are lower-case"):
        Registry("task").add(name, object, "", "p")


def test_summary_defaults_to_first_docstring_line():
    def factory():
        """First line.

        More."""

    registry = Registry("model")
    registry.add("m", factory, None, "p")
    assert registry.get("m").summary == "First line."

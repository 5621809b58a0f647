import dataclasses

import pytest

from metaframe import hookimpl
from metaframe.errors import PluginError, UsageError
from metaframe.plugins import load_plugins
from metaframe.protocols import Capability
from metaframe.registry import Entry, Registrar, Registry
from metaframe.testing import options_for_tests


def entry(name: str, plugin: str = "p", factory: object = object, summary: str = "") -> Entry:
    return Entry(name, factory, summary, plugin)


def test_unknown_name_suggests_the_closest():
    registry = Registry("algorithm")
    for name in ("reptile", "fomaml", "maml"):
        registry.add(entry(name, "builtin"))
    with pytest.raises(UsageError, match=r"unknown algorithm 'reptil'; did you mean reptile\?"):
        registry.get("reptil")


def test_unknown_name_without_close_match_lists_known():
    registry = Registry("task")
    registry.add(entry("sine", "toy"))
    with pytest.raises(UsageError, match="known: sine"):
        registry.get("zzzzzz")


def test_duplicate_names_both_plugins():
    registry = Registry("model")
    registry.add(entry("mlp", "first"))
    with pytest.raises(PluginError, match="'mlp' is registered by both plugin 'first' and 'second'"):
        registry.add(entry("mlp", "second"))


@pytest.mark.parametrize("name", ["Upper", "with space", "-lead", "trail-", ""])
def test_malformed_names_are_refused(name):
    with pytest.raises(PluginError, match="names are lower-case"):
        Registry("task").add(entry(name))


def test_summary_defaults_to_first_docstring_line():
    def factory():
        """First line.

        More."""

    registrar = Registrar(Registry("model"), "p")
    registrar("m", factory)
    registrar.commit()
    assert registrar.registry.get("m").summary == "First line."


def test_the_registrar_makes_a_frozen_entry_of_its_keyword_declarations():
    class Options:
        pass

    registrar = Registrar(Registry("algorithm", ("requires", "options", "test_options")), "p")
    registrar("a", object, "An algorithm.", requires=[Capability.FUNCTIONAL], options=Options, test_options={"lr": 1})
    assert "a" not in registrar.registry, "nothing is registered before the hook has finished"
    registrar.commit()
    made = registrar.registry.get("a")
    assert (made.summary, made.requires, made.options) == ("An algorithm.", frozenset({Capability.FUNCTIONAL}), Options)
    assert options_for_tests(made) == {"lr": 1}
    with pytest.raises(TypeError):
        made.test_options["lr"] = 2  # read-only: the entry is the plugin's declaration, not a scratch pad


def test_a_declaration_a_kind_does_not_take_fails_the_registration():
    registrar = Registrar(Registry("model", ("options", "test_options")), "p")
    with pytest.raises(PluginError, match="registers model 'm' with requires: a model takes options, test_options"):
        registrar("m", object, requires=[Capability.FUNCTIONAL])


def test_a_name_registered_twice_by_one_plugin_fails_it():
    registrar = Registrar(Registry("task"), "p")
    registrar("t", object)
    with pytest.raises(PluginError, match="registers task 't' twice"):
        registrar("t", object)


def test_declarations_stuck_on_the_factory_fail_the_plugin_naming_the_keywords():
    """A plugin written before the typed registrar (declarations as attributes of the factory) is refused
    when it loads, in one line naming what replaced them, not run without its requirements."""

    def build(options, model, settings):
        """Old style."""

    build.requires = frozenset({Capability.FUNCTIONAL})
    build.test_options = {"epsilon": 0.5}

    class OldStyle:
        @hookimpl
        def register_algorithms(self, register):
            register("old-style", build, "An algorithm registered the old way.")

    plugins = load_plugins(entry_points=[], extra=[("old", OldStyle())])
    info = plugins.info("old")
    assert info.status != "ok" and "old-style" not in plugins.algorithms
    assert (
        "registers algorithm 'old-style' with requires, test_options set on its factory; attributes on the factory "
        "were removed in 0.2.0: use register('old-style', ..., requires=..., test_options=...)" in info.error
    ), info.error
    assert "\n" not in info.error


def test_options_for_tests_takes_an_entry_not_a_factory():
    def build(options, model, settings):
        """Old style."""

    build.test_options = {"epsilon": 0.5}
    with pytest.raises(TypeError, match="takes a registry entry.*use register\\(..., test_options=...\\)"):
        options_for_tests(build)


def test_the_engine_parses_options_before_calling_the_factory():
    from tests.plugins.quadratic import PointsOptions

    seen = []
    registry = Registry("task", ("options", "test_options"))
    registrar = Registrar(registry, "p")
    registrar("points", lambda options, k: seen.append((options, k)), "Points.", options=PointsOptions)
    registrar.commit()
    registry.get("points").build({"dim": "4"}, k=2)  # a --set value arrives as a string
    assert seen == [(PointsOptions(dim=4), 2)]
    with pytest.raises(UsageError, match=r"unknown option task\.dimm; did you mean task\.dim\?"):
        registry.get("points").build({"dimm": 4}, k=2)


def test_without_declared_options_the_factory_gets_none_and_a_key_is_refused():
    from metaframe.api import NoOptions

    registry = Registry("model", ("options", "test_options"))
    registry.add(Entry("plain", lambda options, info: options, "Plain.", "p", kind="model"))
    assert registry.get("plain").build({}, {}) == NoOptions()
    with pytest.raises(UsageError, match=r"^unknown option model\.lr; model 'plain' takes no options$"):
        registry.get("plain").build({"lr": "0.1"}, {})


def test_a_factory_that_still_parses_its_options_keeps_working():
    from metaframe.api import parse_options
    from tests.plugins.quadratic import PointsOptions

    def build(options, k):
        """Parses its own options, as before 0.2.0."""
        return parse_options(PointsOptions, options, "task"), k

    registry = Registry("task", ("options", "test_options"))
    registrar = Registrar(registry, "p")
    registrar("points", build, options=PointsOptions)
    registrar.commit()
    assert registry.get("points").build({"dim": 5}, k=3) == (PointsOptions(dim=5), 3)


@pytest.mark.parametrize("annotation", ["dict[str, Any]", "dict", "Mapping[str, Any]", "typing.Dict[str, Any]"])
def test_a_factory_that_takes_its_options_as_a_dict_fails_at_registration_saying_what_to_change(annotation):
    from tests.plugins.quadratic import PointsOptions

    namespace: dict = {}
    exec(f"def build(options: '{annotation}', k: int):\n    '''Old.'''", namespace)

    class OldStyle:
        @hookimpl
        def register_tasks(self, register):
            register("old-points", namespace["build"], options=PointsOptions)
            register("old-plain", namespace["build"])

    plugins = load_plugins(entry_points=[], extra=[("old", OldStyle())])
    info = plugins.info("old")
    assert info.status == "failed" and "old-points" not in plugins.tasks and "\n" not in info.error
    assert (
        "registers task 'old-points' with a factory whose options are a dict; since 0.2.0 the engine parses them "
        "and passes the dataclass instance: annotate them as PointsOptions and drop parse_options from the factory"
    ) in info.error, info.error


def test_the_registries_are_listed_once():
    from metaframe import hookspecs
    from metaframe.plugins import Plugins, new_manager

    hooks = {name for name in dir(hookspecs) if name.startswith("register_") and name != "register_commands"}
    assert set(Plugins(new_manager()).registries()) == hooks


def test_a_model_declares_the_option_that_names_its_initial_weights():
    @dataclasses.dataclass
    class Options:
        init: str | None = None
        width: int = 3
        start: str = "pretrained"

    registrar = Registrar(Registry("model", ("options", "test_options", "weights_option")), "p")
    registrar("m", object, options=Options, weights_option="init")
    registrar.commit()
    assert registrar.registry.get("m").weights_option == "init"
    for option in ("inti", "start"):  # not a field; a field whose default loads weights
        with pytest.raises(PluginError, match=f"weights_option='{option}', which is not a field of Options defaulting"):
            registrar("n", object, options=Options, weights_option=option)
    with pytest.raises(PluginError, match="registers algorithm 'a' with weights_option: an algorithm takes"):
        Registrar(Registry("algorithm", ("requires", "options", "test_options")), "p")("a", object, weights_option="x")

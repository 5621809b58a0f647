"""Fixture plugins that break the rules, one way each."""

from metaframe.api import hookimpl


class Raising:
    @hookimpl
    def register_models(self, register):
        register("half-registered", object)
        raise RuntimeError("boom in a hook")


class Misspelled:
    @hookimpl
    def register_model(self, register):  # not a hook: check_pending must catch it
        register("never", object)


class DuplicateReptile:
    @hookimpl
    def register_algorithms(self, register):
        register("reptile", object, "a second reptile")


class BadName:
    @hookimpl
    def register_tasks(self, register):
        register("Bad Name", object)


class BrokenCommands:
    @hookimpl
    def register_algorithms(self, register):
        register("half-broken", lambda options, model, settings: None, "Registered before the commands failed.")

    @hookimpl
    def register_commands(self, cli):
        raise RuntimeError("no commands today")

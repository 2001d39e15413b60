"""Every hook is tested and documented (datasette's test_plugin_hooks_have_tests, adapted).

A hook `name` is tested when this module has a `test_hook_<name>` function, and documented
when docs/plugins.md has a `### name(args)` heading with the spec's exact arguments.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest

from flowengine import (
    Answers,
    Connector,
    Engine,
    Interaction,
    MemoryStore,
    PluginError,
    VirtualClock,
    drive,
    get_plugin_manager,
    hookimpl,
    hookspecs,
    load_flow,
    load_registry,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
HOOKS = sorted(
    name
    for name, value in vars(hookspecs).items()
    if callable(value) and hasattr(value, "flowengine_spec")
)


@pytest.fixture
def pm() -> Iterator[pluggy.PluginManager]:
    """A fresh manager with the built-ins only (installed plugins are not this test's)."""
    yield get_plugin_manager(load_entrypoints=False)


def test_hooks_are_found() -> None:
    assert HOOKS == [
        "register_answer_actions",
        "register_commands",
        "register_connectors",
        "register_routes",
    ]


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook: str) -> None:
    assert callable(globals().get(f"test_hook_{hook}")), f"hook {hook} has no test_hook_{hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented(hook: str) -> None:
    args = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    headings = re.findall(r"^### (\w+\(.*\))$", DOCS.read_text(encoding="utf-8"), re.M)
    assert f"{hook}({args})" in headings


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hookspec_is_a_one_line_contract(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert doc and "\n" not in doc and doc.startswith("Call ")


class _Greeter:
    """A test plugin with one connector and one answer action."""

    def __init__(self) -> None:
        self.connector = Connector(name="hooktest", title="Hook test")

        @self.connector.capability(
            outcomes=("success",),
            interactive=True,
            input_schema={"type": "object"},
            output_schema={"type": "object"},
        )
        def ask(inputs: dict[str, Any], ctx: Any) -> Any:
            """Ask for a word; the response is the output."""
            return Interaction("form", {"fields": []}) if ctx.response is None else ctx.response

    @hookimpl
    def register_connectors(self, register: Any) -> None:
        register(self.connector)

    @hookimpl
    def register_answer_actions(self, register: Any) -> None:
        async def shout(interaction: Interaction, args: dict[str, Any], env: Any) -> Any:
            return {"word": str(args["word"]).upper(), "node": env.node_id}

        register("shout", shout)


def _registered(pm: pluggy.PluginManager) -> Any:
    pm.register(_Greeter(), name="undo-greeter")
    try:
        return load_registry(pm)
    finally:
        pm.unregister(name="undo-greeter")


def test_hook_register_connectors(pm: pluggy.PluginManager) -> None:
    registry = _registered(pm)
    assert registry.connectors["hooktest"].title == "Hook test"
    loaded = registry.capability("hooktest", "ask")
    assert loaded.plugin == "undo-greeter"
    assert loaded.input.is_valid({}) and not loaded.input.is_valid([])


async def test_hook_register_answer_actions(pm: pluggy.PluginManager, tmp_path: Path) -> None:
    registry = _registered(pm)
    flow_file = tmp_path / "ask.yaml"
    flow_file.write_text("flow: ask\nstart: ask\nnodes:\n  ask: {use: hooktest.ask}\n")
    flow = load_flow(flow_file, registry)
    answers = Answers({"ask": {"do": "shout", "word": "hello"}})
    async with Engine(registry, store=MemoryStore(), clock=VirtualClock()) as engine:
        run = await engine.start(flow)
        run = await drive(engine, run, flow, answers=answers, registry=registry)
    assert run.status == "completed"
    assert run.result == {"word": "HELLO", "node": "ask"}


def test_hook_register_commands(pm: pluggy.PluginManager) -> None:
    import click
    from click.testing import CliRunner

    # private: tests the CLI through its click group
    from flowengine._cli import add_plugin_commands

    class Commands:
        @hookimpl
        def register_commands(self, cli: Any) -> None:
            @cli.command("hello")
            @click.argument("name")
            def hello(name: str) -> None:
                click.echo(f"hello {name}")

    pm.register(Commands(), name="undo-commands")
    group = click.Group("flowengine")
    add_plugin_commands(group, pm)
    assert "sandbox" in group.commands  # the built-in sandbox plugin's, the same way
    result = CliRunner().invoke(group, ["hello", "ada"])
    assert result.exit_code == 0 and result.output == "hello ada\n"


def test_hook_register_routes(pm: pluggy.PluginManager, tmp_path: Path) -> None:
    # private: the web apps `flowengine serve` asks plugins for
    from flowengine._serving.app import plugin_web_apps

    async def app(scope: Any, receive: Any, send: Any) -> None:
        """An ASGI app."""

    class Routes:
        @hookimpl
        def register_routes(self, flows: Any, register: Any) -> None:
            if "greeter" in flows:
                register("/hello", app, origin="http://hello.internal")

    pm.register(Routes(), name="routes")
    flow_file = tmp_path / "greeter.yaml"
    flow_file.write_text("flow: greeter\nstart: hi\nnodes:\n  hi: {use: ui.message}\n")
    flow = load_flow(flow_file)
    [web] = plugin_web_apps({"greeter": flow}, pm)
    assert web.prefixes == ("/hello",) and web.app is app and web.origin == "http://hello.internal"
    assert plugin_web_apps({}, pm) == []  # no flow that needs it: nothing served


def test_a_command_hook_that_raises_names_the_plugin(pm: pluggy.PluginManager) -> None:
    import click

    # private: tests the CLI through its click group
    from flowengine._cli import add_plugin_commands

    class Broken:
        @hookimpl
        def register_commands(self, cli: Any) -> None:
            raise RuntimeError("no commands today")

    pm.register(Broken(), name="broken")
    with pytest.raises(PluginError, match="register_commands\\(\\) raised RuntimeError") as e:
        add_plugin_commands(click.Group("flowengine"), pm)
    assert e.value.plugin == "broken"


def test_answer_action_registered_twice_names_the_plugin(pm: pluggy.PluginManager) -> None:
    class Twice:
        @hookimpl
        def register_answer_actions(self, register: Any) -> None:
            register("phone", lambda interaction, args, env: {})

    pm.register(Twice(), name="twice")
    with pytest.raises(PluginError, match="answer action 'phone' is registered twice") as e:
        load_registry(pm)
    assert e.value.plugin == "twice"


def test_misspelt_hook_is_a_plugin_error_naming_the_plugin(pm: pluggy.PluginManager) -> None:
    class Typo:
        @hookimpl
        def register_conectors(self, register: Any) -> None:
            """Misspelt on purpose."""

    pm.register(Typo(), name="typo")
    with pytest.raises(PluginError, match="register_conectors") as e:
        load_registry(pm)
    assert e.value.plugin == "typo"
    assert str(e.value) == (
        "Plugin 'typo': implements 'register_conectors', which is not a flowengine hook; did you "
        "mean 'register_connectors'? (the hooks are: register_answer_actions, register_commands, "
        "register_connectors, register_routes)"
    )


def test_unknown_name_in_load_plugins_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWENGINE_LOAD_PLUGINS", "gretter")
    with pytest.raises(PluginError, match="FLOWENGINE_LOAD_PLUGINS names 'gretter', which no"):
        get_plugin_manager()

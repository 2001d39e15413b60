"""Plugins: a third-party package found through its entry point, and load-time errors.

`tests/plugin_pkg` is a real package with its own pyproject.toml. It is built and
installed offline (`pip install --no-build-isolation --no-deps --target DIR`) and found
through the `flowengine` entry-point group once DIR is on sys.path.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowengine import (
    Answers,
    Connector,
    Engine,
    MemoryStore,
    PluginError,
    Registry,
    VirtualClock,
    drive,
    get_plugin_manager,
    hookimpl,
    load_flow,
    load_registry,
)

PLUGIN_PKG = Path(__file__).resolve().parents[1] / "plugin_pkg"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The greeter package built and installed into a fresh target directory."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-build-isolation",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(PLUGIN_PKG),
        ],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture
def on_path(installed: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(installed))
    monkeypatch.delenv("FLOWENGINE_LOAD_PLUGINS", raising=False)
    importlib.invalidate_caches()
    try:
        yield installed
    finally:
        sys.modules.pop("flowengine_greeter", None)


def test_package_installed_with_its_entry_point(installed: Path) -> None:
    [dist] = installed.glob("flowengine_greeter-*.dist-info")
    assert "[flowengine]\ngreeter = flowengine_greeter" in (dist / "entry_points.txt").read_text()
    assert (installed / "flowengine_greeter/schemas/greeter/greet.input.json").is_file()


def test_entry_point_plugin_is_loaded(on_path: Path) -> None:
    pm = get_plugin_manager()
    assert pm.get_plugin("greeter") is not None
    registry = load_registry(pm)
    loaded = registry.capability("greeter", "greet")
    assert loaded.plugin == "greeter" and loaded.capability.is_async
    assert loaded.input.schema["required"] == ["name"]  # read from the package's schema file
    assert "greeter.name" in registry.answer_actions
    assert {"functions", "variables", "ui"} <= set(registry.connectors)


async def test_flow_runs_with_the_plugin(on_path: Path) -> None:
    registry = load_registry()
    flow = load_flow(PLUGIN_PKG / "greet.yaml", registry)
    async with Engine(registry, store=MemoryStore(), clock=VirtualClock()) as engine:
        run = await drive(
            engine,
            await engine.start(flow),
            flow,
            registry=registry,
            answers=Answers({"ask": {"do": "greeter.name", "name": "Ada"}}),
        )
        nobody = await drive(
            engine,
            await engine.start(flow),
            flow,
            registry=registry,
            answers=Answers({"ask": {"name": " "}}),
        )
    assert run.status == "completed", run.error
    assert run.result == {"result": "Bonjour, Ada!"}
    assert run.path == ["ask", "greet", "done"]
    assert nobody.status == "waiting"  # a blank required name: the form asks again


def test_cli_runs_the_plugin_flow(on_path: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    # private: tests the CLI through its click group
    from flowengine._cli import main

    answers = tmp_path / "a.yaml"
    answers.write_text("ask: {name: Grace}\n")
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    result = CliRunner().invoke(
        main, ["run", str(PLUGIN_PKG / "greet.yaml"), "--answers", str(answers), "--store", store]
    )
    assert result.exit_code == 0, result.output
    assert "Bonjour, Grace!" in result.output
    listed = CliRunner().invoke(main, ["connectors", "greeter", "greet", "--json"])
    assert '"plugin": "greeter"' in listed.output


def test_load_plugins_env_disables_installed(
    on_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWENGINE_LOAD_PLUGINS", "")
    registry = load_registry()
    assert "greeter" not in registry.connectors
    assert {"functions", "variables", "ui"} <= set(registry.connectors)  # built-ins stay
    monkeypatch.setenv("FLOWENGINE_LOAD_PLUGINS", "greeter")
    assert "greeter" in load_registry().connectors


def test_misspelt_plugin_name_gets_did_you_mean(
    on_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWENGINE_LOAD_PLUGINS", "greter")
    with pytest.raises(PluginError) as e:
        load_registry()
    assert "names 'greter', which no installed plugin has; did you mean 'greeter'?" in str(e.value)
    monkeypatch.setenv("FLOWENGINE_LOAD_PLUGINS", "greter, zzz")
    with pytest.raises(PluginError) as e:
        load_registry()
    assert "names 'greter' (did you mean 'greeter'?), 'zzz', which no" in str(e.value)


# Load-time errors name the plugin ------------------------------------------------------


def registry_with(plugin: Any, name: str) -> Any:
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(plugin, name=name)
    try:
        return load_registry(pm)
    finally:
        pm.unregister(name=name)


class _Registers:
    """A test plugin that registers the connectors it is given."""

    def __init__(self, *connectors: Connector) -> None:
        self.connectors = connectors

    @hookimpl
    def register_connectors(self, register: Any) -> None:
        for c in self.connectors:
            register(c)


def _noop(inputs: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {}


def _connector(name: str, **schemas: Any) -> Connector:
    c = Connector(name=name)
    c.capability("noop", **schemas)(_noop)
    return c


OBJ = {"type": "object"}


def test_duplicate_connector_name() -> None:
    with pytest.raises(PluginError) as e:
        registry_with(
            _Registers(_connector("functions", input_schema=OBJ, output_schema=OBJ)), "copycat"
        )
    assert e.value.plugin == "copycat"
    assert "connector 'functions' is registered twice" in str(e.value)


def test_duplicate_capability_name() -> None:
    c = _connector("twice", input_schema=OBJ, output_schema=OBJ)
    with pytest.raises(PluginError, match="defines capability 'noop' twice"):
        c.capability("noop", input_schema=OBJ, output_schema=OBJ)(_noop)


def test_missing_schema_file(tmp_path: Path) -> None:
    c = _connector("lost", output_schema=OBJ)
    c.schema_dir = tmp_path
    with pytest.raises(PluginError) as e:
        registry_with(_Registers(c), "lost-plugin")
    assert e.value.plugin == "lost-plugin"
    assert "lost.noop input schema is missing" in str(e.value)
    assert str(tmp_path / "lost" / "noop.input.json") in str(e.value)


def test_missing_schema_of_a_third_party_connector_points_at_its_own_folder() -> None:
    with pytest.raises(PluginError) as e:
        registry_with(_Registers(_connector("greeter", output_schema=OBJ)), "greeter")
    message = str(e.value)
    assert "greeter.noop input schema is missing" in message
    assert "set schema_dir= on Connector('greeter') to the plugin's schemas folder" in message
    assert "(holding greeter/noop.input.json), or pass input_schema= / output_schema=" in message
    assert "flowengine/schemas" not in message and "add " not in message


def test_schema_file_not_json(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "noop.input.json").write_text("{not json")
    c = _connector("broken", output_schema=OBJ)
    c.schema_dir = tmp_path
    with pytest.raises(PluginError, match="is not JSON") as e:
        registry_with(_Registers(c), "broken-plugin")
    assert e.value.plugin == "broken-plugin"


def test_invalid_schema() -> None:
    c = _connector("odd", input_schema={"type": "objekt"}, output_schema=OBJ)
    with pytest.raises(PluginError) as e:
        registry_with(_Registers(c), "odd-plugin")
    assert e.value.plugin == "odd-plugin"
    assert "odd.noop input schema is not a valid JSON Schema" in str(e.value)


def test_register_wrong_type() -> None:
    class Wrong:
        @hookimpl
        def register_connectors(self, register: Any) -> None:
            register({"name": "dict"})

    with pytest.raises(PluginError, match=r"takes a flowengine\.Connector, not dict"):
        registry_with(Wrong(), "wrong")


def test_unknown_hook_fails_at_load() -> None:
    import pluggy

    class Typo:
        @hookimpl
        def register_conectors(self, register: Any) -> None:
            """A misspelt hook: pluggy's check_pending() must catch it."""

    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(Typo(), name="typo")
    with pytest.raises(pluggy.PluginValidationError, match="register_conectors"):
        pm.check_pending()


def fake_distribution(folder: Path, name: str, module_source: str) -> None:
    """An installed distribution with a `flowengine` entry point, written by hand."""
    dist = folder / f"{name}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[flowengine]\n{name} = {name}_mod\n")
    (folder / f"{name}_mod.py").write_text(module_source)


def test_plugin_that_fails_to_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_distribution(tmp_path, "shaky", "import no_such_module_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("FLOWENGINE_LOAD_PLUGINS", raising=False)
    importlib.invalidate_caches()
    with pytest.raises(PluginError) as e:
        get_plugin_manager()
    assert e.value.plugin == "shaky"
    assert "cannot import 'shaky_mod' (ModuleNotFoundError" in str(e.value)
    assert "FLOWENGINE_LOAD_PLUGINS=" in str(e.value)
    monkeypatch.setenv("FLOWENGINE_LOAD_PLUGINS", "")  # the escape hatch
    assert "functions" in load_registry().connectors


def test_plugin_whose_hook_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = (
        "from flowengine import hookimpl\n"
        "@hookimpl\n"
        "def register_connectors(register):\n"
        "    raise KeyError('settings')\n"
    )
    fake_distribution(tmp_path, "buggy", source)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("FLOWENGINE_LOAD_PLUGINS", "buggy")
    importlib.invalidate_caches()
    try:
        with pytest.raises(PluginError) as e:
            load_registry()
    finally:
        sys.modules.pop("buggy_mod", None)
    assert e.value.plugin == "buggy"
    assert "register_connectors() raised KeyError" in str(e.value)


@pytest.mark.parametrize(
    ("connector", "capability", "message"),
    [
        (
            "my.conn",
            "noop",
            "connector name 'my.conn' cannot be written in `use: <name>.<capability>`",
        ),
        ("2fa", "noop", "connector name '2fa' cannot be written"),
        ("ok", "do-it", "capability name 'do-it' of connector 'ok' cannot be written in `use:`"),
    ],
)
def test_names_a_flow_cannot_write_fail_at_load(
    connector: str, capability: str, message: str
) -> None:
    c = Connector(name=connector)
    c.capability(capability, input_schema=OBJ, output_schema=OBJ)(_noop)
    with pytest.raises(PluginError, match=re.escape(message)) as e:
        registry_with(_Registers(c), "names")
    assert e.value.plugin == "names"


def test_schema_personal_data_paths_join_the_capability() -> None:
    connector = Connector(name="pd")

    @connector.capability(
        personal_data=("a",),
        input_schema={"type": "object", "x-personal-data": ["a", "b"]},
        output_schema={"type": "object", "x-personal-data": ["c"]},
    )
    def read(inputs: dict, ctx: object) -> dict:
        return {}

    registry = Registry()
    registry.add_connector(connector, "test")
    assert registry.capability("pd", "read").capability.personal_data == ("a", "b", "c")

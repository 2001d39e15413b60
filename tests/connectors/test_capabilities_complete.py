"""Every capability of every built-in connector has schema files, docs and a flow using it.

STYLE.md §6, extended from hooks to capabilities: a capability added without its schemas,
its documentation or an example flow fails here, by name.
"""

from __future__ import annotations

import importlib.metadata
import json
from functools import cache
from pathlib import Path

import pytest
import yaml

from flowengine import Registry, get_plugin_manager, load_flow, load_registry

ROOT = Path(__file__).resolve().parents[2]
# The built-in connectors are the plugins flowengine's own distribution declares as entry
# points, less the PingOne sandbox: a plugin that adds answer actions and a CLI, no connector.
PLUGINS_WITHOUT_CONNECTOR = {"pingone_sandbox"}
BUILTINS = sorted(
    ep.name
    for ep in importlib.metadata.distribution("flowengine-identity").entry_points
    if ep.group == "flowengine" and ep.name not in PLUGINS_WITHOUT_CONNECTOR
)
# Capabilities no flow in flows/ uses yet. Each is covered by connector tests; a flow that
# shows it in a real journey is still missing (reported, not invented). Remove an entry
# when a flow starts using it: the test below insists the list stays exact. Empty now:
# document-review.yaml and account-maintenance.yaml use the last seven.
WITHOUT_FLOW: set[str] = set()


@cache
def registry() -> Registry:
    """The built-in connectors only (installed third-party plugins are not checked here)."""
    return load_registry(get_plugin_manager(load_entrypoints=False))


CAPABILITIES = sorted(
    f"{connector}.{capability}"
    for connector, capability in registry().capabilities
    if connector in BUILTINS
)


@cache
def used_in_flows() -> dict[str, list[str]]:
    """connector.capability -> the flow files (under flows/) whose nodes use it."""
    used: dict[str, list[str]] = {}
    for path in sorted((ROOT / "flows").rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "flow" not in data:
            continue  # an answers or inputs file
        flow = load_flow(path, registry())
        for node in flow.all_nodes.values():
            if node.use:
                connector = flow.connections[node.connection].connector
                name = f"{connector}.{node.capability}"
                used.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return used


def test_every_builtin_connector_has_capabilities() -> None:
    assert sorted(registry().connectors) == BUILTINS
    for connector in BUILTINS:
        assert any(c.startswith(f"{connector}.") for c in CAPABILITIES), connector


@pytest.mark.parametrize("qualname", CAPABILITIES)
def test_capability_has_schema_files(qualname: str) -> None:
    connector, capability = qualname.split(".")
    loaded = registry().capability(connector, capability)
    for direction, compiled in (("input", loaded.input), ("output", loaded.output)):
        base = loaded.connector.schema_dir
        assert base is not None, f"{qualname}: its connector sets no schema_dir"
        path = base / connector / f"{capability}.{direction}.json"
        assert path.is_file(), f"{qualname}: add {path.relative_to(ROOT)}"
        on_disk = json.loads(path.read_text(encoding="utf-8"))
        assert on_disk == compiled.schema, f"{path} is not the schema the registry compiled"
        assert on_disk.get("type") == "object", f"{path}: a {direction} is a JSON object"


def _docs_for(connector: str) -> tuple[Path, str]:
    own = ROOT / "docs" / "connectors" / f"{connector}.md"
    page = own if own.is_file() else ROOT / "docs" / "connectors.md"
    return page, page.read_text(encoding="utf-8")


@pytest.mark.parametrize("qualname", CAPABILITIES)
def test_capability_is_documented(qualname: str) -> None:
    connector, capability = qualname.split(".")
    page, text = _docs_for(connector)
    names = (f"`{qualname}`", f"`{capability}`")
    assert any(n in text for n in names), f"{qualname} is not documented in {page}"


@pytest.mark.parametrize("qualname", CAPABILITIES)
def test_capability_is_used_by_a_flow(qualname: str) -> None:
    if qualname in WITHOUT_FLOW:
        pytest.skip(f"no flow in flows/ uses {qualname} yet (WITHOUT_FLOW)")
    assert used_in_flows().get(qualname), f"no flow in flows/ uses {qualname}"


def test_the_list_of_capabilities_without_a_flow_is_exact() -> None:
    unused = {name for name in CAPABILITIES if name not in used_in_flows()}
    assert unused == WITHOUT_FLOW

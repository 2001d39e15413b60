"""Reading flow files: YAML -> schema check -> FlowSpec with its graph -> static checks.

`check_flow()` returns every problem at once, each a Diagnostic with a stable code
(docs/flows.md lists them); `load_flow()` returns the FlowSpec or raises
FlowDefinitionError carrying them all.
"""

from __future__ import annotations

import gc
import hashlib
import math
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import networkx as nx

from flowengine._errors import FlowDefinitionError
from flowengine._plugins.registry import Registry, load_registry
from flowengine._plugins.schema import CompiledSchema, load_schema
from flowengine._reading.checks.graph import node_path
from flowengine._reading.checks.literals import explain, json_path_of
from flowengine._reading.checks.structure import run_all
from flowengine._reading.diagnostic import Diagnostic
from flowengine._reading.marked_yaml import (
    YamlDocument,
    decode_text,
    load_yaml,
    read_file_bytes,
)
from flowengine._reading.spec import (
    ConnectionSpec,
    FlowSettings,
    FlowSpec,
    Location,
    NodeSpec,
    RetrySpec,
)

__all__ = ["Diagnostic", "check_flow", "load_flow", "parse_duration"]

_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)([dhms])")
_UNIT = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}


def load_flow(
    path: str | Path, registry: Registry | None = None, *, text: str | None = None
) -> FlowSpec:
    """The checked FlowSpec of a flow file; raises FlowDefinitionError on any error."""
    spec, diagnostics = check_flow(path, registry, text=text)
    if spec is None:
        raise FlowDefinitionError(str(path), diagnostics)
    return spec


def check_flow(
    path: str | Path, registry: Registry | None = None, *, text: str | None = None
) -> tuple[FlowSpec | None, list[Diagnostic]]:
    """Every problem in a flow file, sorted by place; the FlowSpec only if none is an error."""
    # Loading makes tens of thousands of small acyclic objects; the cyclic garbage collector
    # would walk them again and again (a third of the time on a 1,000-node flow).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _check_flow(path, registry, text)
    finally:
        if was_enabled:
            gc.enable()


def _check_flow(
    path: str | Path, registry: Registry | None, text: str | None
) -> tuple[FlowSpec | None, list[Diagnostic]]:
    """check_flow() without the garbage-collector switch."""
    file = str(path)
    if text is None:
        try:
            raw = read_file_bytes(path, "the flow file")
        except OSError as e:
            return None, [Diagnostic(Location(file), "FE000", f"cannot read the flow file: {e}")]
        except ValueError as e:  # larger than MAX_FILE_BYTES
            return None, [_unreadable(file, "FE006", e)]
        try:
            text = decode_text(raw, path, "the flow file")  # an editor's BOM is not YAML
        except ValueError as e:  # not UTF-8
            return None, [_unreadable(file, "FE000", e)]
    else:
        raw = text.encode("utf-8", "surrogatepass")
    doc = load_yaml(text, file)
    if any(d.code in _FATAL for d in doc.diagnostics):
        return None, _sorted(doc.diagnostics)  # the document's shape is unknown: stop here
    if not isinstance(doc.data, dict):
        problem = doc.diagnostic(
            "FE010", "a flow file must be a mapping with `flow:` and `nodes:`", ()
        )
        return None, _sorted([*doc.diagnostics, problem])
    found = [*doc.diagnostics, *_check_schema(doc)]
    registry = load_registry() if registry is None else registry
    spec = _build(doc, registry, "sha256:" + hashlib.sha256(raw).hexdigest(), found)
    found += run_all(spec, doc, registry)
    diagnostics = _sorted(found)
    if any(d.is_error for d in diagnostics):
        return None, diagnostics
    return spec, diagnostics


def _unreadable(file: str, code: str, error: ValueError) -> Diagnostic:
    """A flow file that cannot be read (too large, not UTF-8), its path not said twice."""
    return Diagnostic(Location(file), code, str(error).removeprefix(f"{file}: "))


_FATAL = frozenset(("FE000", "FE001", "FE004", "FE005", "FE006", "FE008"))
"""Reading problems after which the document's shape is unknown: the checks do not run."""


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in file order, each once."""
    # set(): an anchored mapping read twice (through an alias) reports its problems twice.
    return sorted(
        set(diagnostics), key=lambda d: (d.location.line, d.location.col, d.code, d.message)
    )


MAX_TIMEOUT = 365 * 86400.0
"""The longest `settings.timeout` (365 days): FE012 past it."""


def parse_duration(value: Any) -> float:
    """Seconds from a number or a duration string such as "90s", "30m", "1h30m".

    A duration too large for a float is `inf` (never OverflowError)."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return sum(float(n) * _UNIT[u] for n, u in _DURATION.findall(str(value)))
    except OverflowError:  # an integer past 1.8e308
        return math.inf


# -- the JSON Schema of the format -------------------------------------------------------


@cache
def _flow_schema() -> CompiledSchema:
    """The flow file's JSON Schema, compiled once per process."""
    return CompiledSchema(load_schema("flow.schema.json"), name="flow file")


def _check_schema(doc: YamlDocument) -> Iterator[Diagnostic]:
    """Every violation of schemas/flow.schema.json (FE010), placed at its key."""
    schema = _flow_schema()
    if schema.is_valid(doc.data):
        return
    for error in schema.errors(doc.data):
        yield from _schema_error(doc, error)


def _schema_error(doc: YamlDocument, error: jsonschema.ValidationError) -> Iterator[Diagnostic]:
    """One schema error as diagnostics, with its node and JSON path."""
    for path, message, at_value in explain(error):
        node_id = _node_of(path)
        json_path = json_path_of(path)
        yield doc.diagnostic(
            "FE010",
            f"{json_path}: {message}",
            path,
            at_value=at_value,
            node_id=node_id,
            json_path=json_path,
        )


def _node_of(path: tuple[str | int, ...]) -> str | None:
    """The node (or branch) a file path lies in."""
    if len(path) > 3 and path[0] == "nodes" and path[2] == "parallel":
        return str(path[3])
    return str(path[1]) if len(path) > 1 and path[0] == "nodes" else None


# -- building the FlowSpec ---------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    """The value if it is a mapping, else {} (the schema check has reported it)."""
    return value if isinstance(value, dict) else {}


def _build(
    doc: YamlDocument, registry: Registry, digest: str, problems: list[Diagnostic]
) -> FlowSpec:
    """The FlowSpec of a document, built even when parts are wrong, so checks see them all.

    What cannot be built as written (a branch id taken, `next:` beside `on: success`) is
    added to `problems`."""
    data: dict[str, Any] = doc.data
    nodes: dict[str, NodeSpec] = {}
    all_nodes: dict[str, NodeSpec] = {}
    for node_id, raw in _dict(data.get("nodes")).items():
        nodes[node_id] = all_nodes[node_id] = _node(doc, node_id, _dict(raw), None, problems)
    for node in nodes.values():  # after every node, so that a colliding branch is the one named
        for branch in node.branches.values():
            _add_branch(doc, all_nodes, branch, problems)
    connections = _connections(doc, data)
    _implicit_connections(doc, connections, all_nodes, registry)
    start = data.get("start")
    return FlowSpec(
        id=str(data.get("flow", "")),
        title=str(data.get("title", "")),
        file=doc.file,
        digest=digest,
        inputs_schema=_dict(data.get("inputs")),
        variables=_dict(data.get("variables")),
        connections=connections,
        settings=_settings(doc, _dict(data.get("settings")), problems),
        start=start if isinstance(start, str) else "",
        nodes=nodes,
        all_nodes=all_nodes,
        locations=doc.locations(),
        graph=_graph(all_nodes),
    )


def _add_branch(
    doc: YamlDocument, all_nodes: dict[str, NodeSpec], node: NodeSpec, problems: list[Diagnostic]
) -> None:
    """Add a branch to the node ids, unless a node already has its id (FE033)."""
    if node.id in all_nodes:
        first = all_nodes[node.id]
        problems.append(
            doc.diagnostic(
                "FE033",
                f"branch id {node.id!r} is already the id of a node (line {first.location.line}); "
                "node and branch ids share one namespace (nodes.<id>): rename the branch",
                node_path(node),
                node_id=node.id,
            )
        )
        return
    all_nodes[node.id] = node


def _node(
    doc: YamlDocument,
    node_id: str,
    raw: dict[str, Any],
    parent: str | None,
    problems: list[Diagnostic],
) -> NodeSpec:
    """One node (or branch) and, for a parallel block, its branches."""
    path = ("nodes", node_id) if parent is None else ("nodes", parent, "parallel", node_id)
    branches: dict[str, NodeSpec] = {}
    use: str | None = str(raw.get("use", ""))
    if parent is None and "parallel" in raw:
        use = None
        for branch_id, branch in _dict(raw["parallel"]).items():
            branches[branch_id] = _node(doc, branch_id, _dict(branch), node_id, problems)
    return NodeSpec(
        id=node_id,
        use=use,
        inputs=_dict(raw.get("with")),
        routes=_routes(doc, path, raw, problems) if parent is None else {},
        location=doc.key_at(path),
        title=str(raw.get("title", "")),
        branches=branches,
        parent=parent,
        retry=_retry(raw.get("retry")),
        timeout=_duration(raw.get("timeout")),
    )


def _duration(value: Any) -> float | None:
    """Seconds of a node's duration setting, None when absent or not one (the schema says)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    seconds = parse_duration(value)
    return seconds if seconds > 0 else None


def _retry(raw: Any) -> RetrySpec | None:
    """A node's `retry:`; what the schema rejected falls back to the defaults."""
    if not isinstance(raw, dict):
        return None
    on = raw.get("on")
    codes = tuple(str(c) for c in on) if isinstance(on, list) else ()
    attempts, rate, jitter = raw.get("max_attempts"), raw.get("backoff_rate"), raw.get("jitter")
    defaults = RetrySpec(on=codes)
    return RetrySpec(
        on=codes,
        max_attempts=attempts if type(attempts) is int and attempts >= 0 else 3,
        interval=_duration(raw.get("interval")) or defaults.interval,
        backoff_rate=float(rate) if isinstance(rate, int | float) and rate >= 1 else 2.0,
        max_delay=_duration(raw.get("max_delay")),
        jitter=jitter if jitter in ("full", "none") else "none",
    )


def _routes(
    doc: YamlDocument, path: tuple[str, ...], raw: dict[str, Any], problems: list[Diagnostic]
) -> dict[str, str]:
    """Outcome -> target from `on:`, with `next:` as the success route."""
    routes = {k: v for k, v in _dict(raw.get("on")).items() if isinstance(v, str)}
    target = raw.get("next")
    if isinstance(target, str):
        if "success" in routes:
            problems.append(
                doc.diagnostic(
                    "FE035",
                    "both `next:` and `on: {success: ...}` are given; `next` is shorthand for "
                    "the success route: keep one",
                    (*path, "next"),
                    node_id=str(path[1]),
                )
            )
        else:
            routes = {"success": target, **routes}
    return routes


def _connections(doc: YamlDocument, data: dict[str, Any]) -> dict[str, ConnectionSpec]:
    """The declared connections, settings as written."""
    result = {}
    for name, raw in _dict(data.get("connections")).items():
        raw = _dict(raw)
        result[name] = ConnectionSpec(
            name=name,
            connector=str(raw.get("connector", "")),
            settings=_dict(raw.get("settings")),
            location=doc.key_at(("connections", name)),
        )
    return result


def _implicit_connections(
    doc: YamlDocument,
    connections: dict[str, ConnectionSpec],
    all_nodes: Mapping[str, NodeSpec],
    registry: Registry,
) -> None:
    """Add a connection for each installed connector used by name alone (`use: ui.form`)."""
    # `use: ui.form` needs no `connections:` entry: a connector's name is a connection with
    # default settings, unless the flow declares a connection of that name.
    for node in all_nodes.values():
        name = node.connection
        if node.use and name not in connections and name in registry.connectors:
            connections[name] = ConnectionSpec(
                name=name, connector=name, settings={}, location=node.location
            )


def _settings(doc: YamlDocument, raw: dict[str, Any], problems: list[Diagnostic]) -> FlowSettings:
    """The run limits; a value the schema rejected falls back to its default."""
    defaults = FlowSettings()
    visits = raw.get("max_node_visits", defaults.max_node_visits)
    timeout = parse_duration(raw.get("timeout", defaults.timeout))
    if not timeout <= MAX_TIMEOUT:  # inf and nan too
        problems.append(
            doc.diagnostic(
                "FE012",
                "settings.timeout is longer than 365 days (31,536,000 s), the longest a run "
                "may take; write a shorter duration such as `30d`",
                ("settings", "timeout"),
                at_value=True,
                json_path="$.settings.timeout",
            )
        )
        timeout = defaults.timeout
    return FlowSettings(
        max_node_visits=visits
        if isinstance(visits, int) and visits >= 1
        else defaults.max_node_visits,
        timeout=timeout if timeout > 0 else defaults.timeout,
    )


def _graph(all_nodes: Mapping[str, NodeSpec]) -> nx.DiGraph:
    """The networkx DiGraph: an edge per route (outcomes on it), block -> branch edges."""
    graph = nx.DiGraph()
    for node in all_nodes.values():
        graph.add_node(node.id, use=node.use, parent=node.parent)
    for node in all_nodes.values():
        for branch_id in node.branches:
            if branch_id in all_nodes and all_nodes[branch_id].parent == node.id:
                graph.add_edge(node.id, branch_id, outcomes=["branch"])
        for outcome, target in node.routes.items():
            if target not in all_nodes:
                continue  # reported by the checks
            if graph.has_edge(node.id, target):
                graph.edges[node.id, target]["outcomes"].append(outcome)
            else:
                graph.add_edge(node.id, target, outcomes=[outcome])
    return graph

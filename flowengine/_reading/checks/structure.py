"""Static checks of a built FlowSpec: what the flow schema cannot say.

Each check returns (yields) the Diagnostics it finds, placed by the YamlDocument's marks
(so they carry file, line and column), and never stops at the first problem. Codes are
listed in docs/flows.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema

from flowengine._errors import did_you_mean
from flowengine._plugins.connector import is_idempotent
from flowengine._plugins.registry import LoadedCapability, Registry
from flowengine._reading.checks.graph import (
    OutputSchema,
    ReferenceChecker,
    check_reachable,
    node_path,
)
from flowengine._reading.checks.literals import check_literal, explain, json_path_of
from flowengine._reading.diagnostic import Diagnostic
from flowengine._reading.marked_yaml import Path, YamlDocument
from flowengine._reading.spec import FlowSpec, NodeSpec
from flowengine._reading.templating import ENV_REFERENCE

__all__ = ["PARALLEL_OUTCOMES", "run_all"]

PARALLEL_OUTCOMES = ("success", "error")


def run_all(spec: FlowSpec, doc: YamlDocument, registry: Registry) -> list[Diagnostic]:
    """Run every static check; every problem they find, as data."""
    found = [
        *_check_start(spec, doc),
        *_check_routes(spec, doc),
        *_check_inputs_schema(spec, doc),
        *_check_connections(spec, doc, registry),
    ]
    caps, problems = _resolve_capabilities(spec, doc, registry)
    found += problems
    for node_id, loaded in caps.items():
        node = spec.all_nodes[node_id]
        found += check_literal(doc, (*node_path(node), "with"), node.inputs, loaded.input, node.id)
    found += _check_outcomes(spec, doc, caps)
    found += _check_interactive_branches(spec, doc, caps)
    found += _check_retries(spec, doc, caps)
    reachable, problems = check_reachable(spec, doc)
    found += problems
    found += ReferenceChecker(spec, doc, reachable, _output_schemas(spec, caps)).check()
    return found


def _output_schemas(
    spec: FlowSpec, caps: Mapping[str, LoadedCapability]
) -> dict[str, OutputSchema]:
    """Each node's output schema: its capability's, or the one the capability derives from
    the node's `with:` (a form's fields); a parallel block's lists its branches."""
    found: dict[str, OutputSchema] = {}
    for node_id, cap in caps.items():
        derived = _derived_output_schema(cap, spec.all_nodes[node_id].inputs)
        if derived is not None:
            found[node_id] = (derived, f"the output of {cap.qualname} {node_id!r} (its `with:`)")
        else:
            found[node_id] = (cap.output.schema, f"{cap.qualname}'s output schema")
    for node in spec.nodes.values():
        if node.is_parallel:
            # The block's output maps each branch id to that branch's output.
            branches = {b: found.get(b, ({}, ""))[0] for b in node.branches}
            schema = {"type": "object", "properties": branches, "additionalProperties": False}
            found[node.id] = (schema, f"the output of parallel block {node.id!r} (its branches)")
    return found


def _derived_output_schema(cap: LoadedCapability, with_: Any) -> dict[str, Any] | None:
    """The node's own output schema, when its capability derives one from `with:`."""
    derive = cap.capability.output_schema_of
    if derive is None or not isinstance(with_, Mapping):
        return None
    try:
        derived = derive(with_)
    except Exception:  # a refinement only: the capability's own schema still applies
        return None
    return derived if isinstance(derived, dict) else None


def _raw_node(doc: YamlDocument, node_id: str) -> dict[str, Any]:
    """The node's mapping as written (for paths the FlowSpec does not keep)."""
    nodes = doc.data.get("nodes")
    raw = nodes.get(node_id) if isinstance(nodes, dict) else None
    return raw if isinstance(raw, dict) else {}


# -- start and routes --------------------------------------------------------------------


def _check_start(spec: FlowSpec, doc: YamlDocument) -> Iterator[Diagnostic]:
    """`start:` is present and names a top-level node (FE030, FE031, FE034)."""
    if "start" not in doc.data:
        first = next(iter(spec.nodes), "<node id>")
        yield doc.diagnostic("FE030", f"the flow has no `start:`; add `start: {first}`", ())
        return
    if not isinstance(doc.data["start"], str):
        return  # a schema error already
    if spec.start not in spec.all_nodes:
        hint = did_you_mean(spec.start, spec.nodes)
        message = f"start node {spec.start!r} does not exist{hint}"
        yield doc.diagnostic("FE031", message, ("start",), at_value=True)
    elif spec.all_nodes[spec.start].parent is not None:
        yield doc.diagnostic(
            "FE034",
            f"start node {spec.start!r} is a branch of the parallel block "
            f"{spec.all_nodes[spec.start].parent!r}; start at the block instead",
            ("start",),
            at_value=True,
        )


def _route_path(doc: YamlDocument, node_id: str, outcome: str) -> Path:
    """Where a route is written: `next:` for success unless `on:` has it."""
    raw = _raw_node(doc, node_id)
    on = raw.get("on")
    if outcome == "success" and not (isinstance(on, dict) and "success" in on):
        return ("nodes", node_id, "next")
    return ("nodes", node_id, "on", outcome)


def _check_routes(spec: FlowSpec, doc: YamlDocument) -> Iterator[Diagnostic]:
    """Every route leads to a top-level node (FE032, FE034)."""
    for node in spec.nodes.values():
        for outcome, target in node.routes.items():
            path = _route_path(doc, node.id, outcome)
            if target not in spec.all_nodes:
                yield doc.diagnostic(
                    "FE032",
                    f"node {node.id!r} routes {outcome!r} to {target!r}, which is not a node"
                    + did_you_mean(target, spec.nodes),
                    path,
                    at_value=True,
                    node_id=node.id,
                )
            elif spec.all_nodes[target].parent is not None:
                yield doc.diagnostic(
                    "FE034",
                    f"node {node.id!r} routes {outcome!r} into {target!r}, a branch of the "
                    f"parallel block {spec.all_nodes[target].parent!r}; route to the block",
                    path,
                    at_value=True,
                    node_id=node.id,
                )


def _check_inputs_schema(spec: FlowSpec, doc: YamlDocument) -> Iterator[Diagnostic]:
    """`inputs:` is itself a valid JSON Schema (FE011)."""
    meta = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
    for error in meta.iter_errors(spec.inputs_schema):
        for path, message, _ in explain(error):
            yield doc.diagnostic(
                "FE011",
                f"`inputs` is not a valid JSON Schema: {message}",
                ("inputs", *path),
                at_value=True,
            )


# -- connections and capabilities --------------------------------------------------------


def _check_connections(
    spec: FlowSpec, doc: YamlDocument, registry: Registry
) -> Iterator[Diagnostic]:
    """Declared connections: used, installed, settings valid, secrets not written (FE021-FE025)."""
    declared = _dict(doc.data.get("connections"))
    used = {node.connection for node in spec.all_nodes.values() if node.use}
    for name, conn in spec.connections.items():
        if name not in declared:
            yield from _check_implicit(spec, doc, registry, name)
            continue
        path = ("connections", name)
        yield from _check_env_syntax(doc, (*path, "settings"), conn.settings)
        if name not in used:
            yield doc.diagnostic(
                "FE024",
                f"connection {name!r} is not used by any node; remove it or use it as "
                f"`use: {name}.<capability>`",
                path,
                warning=True,
            )
        if not conn.connector:
            continue  # a schema error already
        if conn.connector not in registry.connectors:
            yield doc.diagnostic(
                "FE021",
                f"connection {name!r} uses connector {conn.connector!r}, which is not "
                f"installed{did_you_mean(conn.connector, registry.connectors)}",
                (*path, "connector"),
                at_value=True,
            )
            continue
        secrets = registry.connectors[conn.connector].secret_settings
        yield from check_literal(
            doc,
            (*path, "settings"),
            conn.settings,
            registry.settings[conn.connector],
            None,
            marker="${",
            what=f"connection {name!r} setting",
            secrets=secrets,
        )
        yield from _check_written_secrets(doc, path, conn.settings, secrets)


def _check_written_secrets(
    doc: YamlDocument, path: Path, settings: Mapping[str, Any], secrets: tuple[str, ...]
) -> Iterator[Diagnostic]:
    """Warn when a secret setting is written into the file instead of read from ${VAR}."""
    for key in secrets:
        value = settings.get(key)
        if isinstance(value, str) and value and "${" not in value:
            yield doc.diagnostic(
                "FE025",
                f"connection {path[1]!r} setting {key!r} is a secret written in the flow file; "
                f"read it from the environment instead: {key}: ${{{key.upper()}}}",
                (*path, "settings", key),
                warning=True,
            )


def _check_env_syntax(doc: YamlDocument, path: Path, value: Any) -> Iterator[Diagnostic]:
    """Report `${` that is not a well-formed `${NAME}` / `${NAME:-default}`, and `{{ }}`."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _check_env_syntax(doc, (*path, key), item)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _check_env_syntax(doc, (*path, i), item)
    elif isinstance(value, str) and "{{" in value:
        # Settings are read once per connection, before any node runs: nothing to render.
        yield doc.diagnostic(
            "FE073",
            f"connection {path[1]!r} setting {json_path_of(path[3:])} holds a `{{{{ ... }}}}` "
            "template, which connection settings do not render (they would get the text as "
            "written); read the environment with ${NAME}",
            path,
            at_value=True,
        )
    elif isinstance(value, str) and "${" in ENV_REFERENCE.sub("", value):
        # The value is not echoed: it may hold a secret (a default, or a pasted key).
        yield doc.diagnostic(
            "FE072",
            f"connection {path[1]!r} setting {json_path_of(path[3:])} has a malformed "
            "`${...}`; write ${NAME} or "
            "${NAME:-default} (NAME: letters, digits and _), or $$ for a literal $",
            path,
            at_value=True,
        )


def _check_implicit(
    spec: FlowSpec, doc: YamlDocument, registry: Registry, name: str
) -> Iterator[Diagnostic]:
    """A connector used without a `connections:` entry must work with no settings."""
    if registry.settings[name].is_valid({}):
        return
    for node in spec.all_nodes.values():
        if node.connection == name:
            yield doc.diagnostic(
                "FE023",
                f"node {node.id!r} uses connector {name!r} without a connection, but it needs "
                f"settings; declare one under `connections:` (connector: {name}, settings: ...)",
                (*node_path(node), "use"),
                at_value=True,
                node_id=node.id,
            )


def _dict(value: Any) -> dict[str, Any]:
    """The value if it is a mapping, else {} (the schema check has reported it)."""
    return value if isinstance(value, dict) else {}


def _resolve_capabilities(
    spec: FlowSpec, doc: YamlDocument, registry: Registry
) -> tuple[dict[str, LoadedCapability], list[Diagnostic]]:
    """Each node's capability, reporting unknown connections and capabilities (FE020, FE022)."""
    found = {}
    problems: list[Diagnostic] = []
    for node in spec.all_nodes.values():
        if not node.use or "." not in node.use:
            continue  # a parallel block, or a schema error already reported
        path = (*node_path(node), "use")
        conn = spec.connections.get(node.connection)
        if conn is None:
            names = sorted({*spec.connections, *registry.connectors})
            problems.append(
                doc.diagnostic(
                    "FE020",
                    f"node {node.id!r} uses connection {node.connection!r}, which is neither "
                    f"declared under `connections:` nor an installed connector"
                    f"{did_you_mean(node.connection, names)} (known: {', '.join(names)})",
                    path,
                    at_value=True,
                    node_id=node.id,
                )
            )
            continue
        connector = registry.connectors.get(conn.connector)
        if connector is None:
            continue  # FE021 names the connection
        if node.capability not in connector.capabilities:
            known = sorted(connector.capabilities)
            problems.append(
                doc.diagnostic(
                    "FE022",
                    f"connector {connector.name!r} has no capability {node.capability!r}"
                    f"{did_you_mean(node.capability, known)} (it has: {', '.join(known)})",
                    path,
                    at_value=True,
                    node_id=node.id,
                )
            )
            continue
        found[node.id] = registry.capability(connector.name, node.capability)
    return found, problems


# -- outcomes ----------------------------------------------------------------------------


def _dynamic_outcomes(node: NodeSpec, cap: LoadedCapability) -> set[str] | None:
    """Outcome labels written in the node's inputs; None if a template hides some."""
    values: list[Any] = []
    for field in cap.capability.outcome_fields:
        source = node.inputs.get(field)
        if isinstance(source, dict):
            values.extend(source.values())
        elif isinstance(source, list):
            values.extend(source)
        elif source is not None:
            values.append(source)  # one label, or a template standing for the whole field
    if any(not isinstance(v, str) or "{{" in v for v in values):
        return None
    return set(values)


def _check_outcomes(
    spec: FlowSpec, doc: YamlDocument, caps: Mapping[str, LoadedCapability]
) -> Iterator[Diagnostic]:
    """Routes name outcomes the capability can report (FE040); unrouted ones warn."""
    for node in spec.nodes.values():
        if node.is_parallel:
            declared: set[str] | None = set(PARALLEL_OUTCOMES)
            what = f"parallel block {node.id!r}"
        elif node.id in caps:
            cap = caps[node.id]
            dynamic = _dynamic_outcomes(node, cap)
            declared = None if dynamic is None else {*cap.capability.outcomes, "error", *dynamic}
            what = cap.qualname
        else:
            continue
        if declared is None:
            continue  # outcomes come from templates: known only at run time
        for outcome in node.routes:
            if outcome not in declared:
                can = ", ".join(repr(o) for o in sorted(declared))
                path = _route_path(doc, node.id, outcome)
                via = " (`next:` is the success route)" if path[-1] == "next" else ""
                yield doc.diagnostic(
                    "FE040",
                    f"node {node.id!r} routes outcome {outcome!r}{via}, which {what} cannot "
                    f"report{did_you_mean(outcome, declared)} (it reports: {can})",
                    path,
                    node_id=node.id,
                )
        if node.routes:  # a node with no routes at all is an end of the flow
            yield from _check_unrouted(doc, node, declared, what)


def _check_unrouted(
    doc: YamlDocument, node: NodeSpec, declared: set[str], what: str
) -> Iterator[Diagnostic]:
    """Warn about declared outcomes with no route (FE041, FE042)."""
    for outcome in sorted(declared - set(node.routes)):
        if outcome == "error":
            message = (
                f"node {node.id!r} has no route for outcome 'error': an error there fails "
                f"the run; add `on: {{error: <node>}}` to handle it"
            )
            code = "FE042"
        else:
            message = (
                f"node {node.id!r} has no route for outcome {outcome!r} ({what} can report "
                f"it): the run would end there"
            )
            code = "FE041"
        yield doc.diagnostic(code, message, node_path(node), warning=True, node_id=node.id)


def _check_interactive_branches(
    spec: FlowSpec, doc: YamlDocument, caps: Mapping[str, LoadedCapability]
) -> Iterator[Diagnostic]:
    """A branch cannot pause its run for a person (FE036): the runtime would fail it."""
    for node_id, cap in caps.items():
        node = spec.all_nodes[node_id]
        if node.parent is not None and cap.capability.interactive:
            yield doc.diagnostic(
                "FE036",
                f"branch {node.id!r} of parallel block {node.parent!r} uses {cap.qualname}, "
                "which asks a person and pauses the run; branches cannot pause: move it out "
                "of the block",
                (*node_path(node), "use"),
                at_value=True,
                node_id=node.id,
            )


def _check_retries(
    spec: FlowSpec, doc: YamlDocument, caps: Mapping[str, LoadedCapability]
) -> Iterator[Diagnostic]:
    """FE090: `retry:` on a capability that is not idempotent (a retry could repeat it)."""
    for node_id, loaded in caps.items():
        node = spec.all_nodes[node_id]
        if node.retry is None or is_idempotent(loaded.connector, loaded.capability):
            continue
        yield doc.diagnostic(
            "FE090",
            f"node {node.id!r} retries {loaded.qualname}, which is not idempotent: a second "
            "call could repeat what the first did (a second user, a second transaction); "
            "remove `retry:` and route the error instead (the plugin can declare a safe "
            "capability `idempotent=True`)",
            (*node_path(node), "retry"),
            node_id=node.id,
        )

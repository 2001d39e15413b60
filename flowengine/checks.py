"""Static checks of a built FlowSpec: what the flow schema cannot say.

Each check appends Diagnostics to the YamlDocument (so they carry file, line and column)
and never stops at the first problem. Codes are listed in docs/flows.md.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import jsonschema
import networkx as nx
from jsonschema.exceptions import best_match

from flowengine._refs import KNOWN_NAMES, Reference, find_references
from flowengine._schema import CompiledSchema
from flowengine._yaml import Path, YamlDocument
from flowengine.plugins import LoadedCapability, Registry
from flowengine.spec import FlowSpec, NodeSpec

__all__ = [
    "did_you_mean",
    "explain",
    "extra_keys",
    "immediate_dominators",
    "json_path_of",
    "run_all",
]

PARALLEL_OUTCOMES = ("success", "error")
# Keywords whose verdict depends only on the shape of a container, never on the values
# inside it, so a template inside the container cannot change them.
_SHAPE_KEYWORDS = frozenset(
    {
        "type",
        "required",
        "additionalProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "minItems",
        "maxItems",
        "dependentRequired",
    }
)


def run_all(spec: FlowSpec, doc: YamlDocument, registry: Registry) -> None:
    """Run every static check, adding each problem to `doc.diagnostics`."""
    _check_start(spec, doc)
    _check_routes(spec, doc)
    _check_inputs_schema(spec, doc)
    _check_connections(spec, doc, registry)
    caps = _resolve_capabilities(spec, doc, registry)
    for node_id, loaded in caps.items():
        node = spec.all_nodes[node_id]
        _check_literal(doc, (*_node_path(node), "with"), node.inputs, loaded.input, node.id)
    _check_outcomes(spec, doc, caps)
    reachable = _check_reachable(spec, doc)
    _References(spec, doc, reachable).check()


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """'; did you mean 'x'?' for the closest candidate, or ''."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _node_path(node: NodeSpec) -> Path:
    if node.parent is None:
        return ("nodes", node.id)
    return ("nodes", node.parent, "parallel", node.id)


def _raw_node(doc: YamlDocument, node_id: str) -> dict[str, Any]:
    raw = doc.data.get("nodes", {}).get(node_id)
    return raw if isinstance(raw, dict) else {}


# -- start and routes --------------------------------------------------------------------


def _check_start(spec: FlowSpec, doc: YamlDocument) -> None:
    if "start" not in doc.data:
        first = next(iter(spec.nodes), "<node id>")
        doc.report("FE030", f"the flow has no `start:`; add `start: {first}`", ())
        return
    if not isinstance(doc.data["start"], str):
        return  # a schema error already
    if spec.start not in spec.all_nodes:
        hint = did_you_mean(spec.start, spec.nodes)
        message = f"start node {spec.start!r} does not exist{hint}"
        doc.report("FE031", message, ("start",), at_value=True)
    elif spec.all_nodes[spec.start].parent is not None:
        doc.report(
            "FE034",
            f"start node {spec.start!r} is a branch of the parallel block "
            f"{spec.all_nodes[spec.start].parent!r}; start at the block instead",
            ("start",),
            at_value=True,
        )


def _route_path(doc: YamlDocument, node_id: str, outcome: str) -> Path:
    raw = _raw_node(doc, node_id)
    on = raw.get("on")
    if outcome == "success" and not (isinstance(on, dict) and "success" in on):
        return ("nodes", node_id, "next")
    return ("nodes", node_id, "on", outcome)


def _check_routes(spec: FlowSpec, doc: YamlDocument) -> None:
    for node in spec.nodes.values():
        for outcome, target in node.routes.items():
            path = _route_path(doc, node.id, outcome)
            if target not in spec.all_nodes:
                doc.report(
                    "FE032",
                    f"node {node.id!r} routes {outcome!r} to {target!r}, which is not a node"
                    + did_you_mean(target, spec.nodes),
                    path,
                    at_value=True,
                    node_id=node.id,
                )
            elif spec.all_nodes[target].parent is not None:
                doc.report(
                    "FE034",
                    f"node {node.id!r} routes {outcome!r} into {target!r}, a branch of the "
                    f"parallel block {spec.all_nodes[target].parent!r}; route to the block",
                    path,
                    at_value=True,
                    node_id=node.id,
                )


def _check_inputs_schema(spec: FlowSpec, doc: YamlDocument) -> None:
    meta = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
    for error in meta.iter_errors(spec.inputs_schema):
        for path, message, _ in explain(error):
            doc.report(
                "FE011",
                f"`inputs` is not a valid JSON Schema: {message}",
                ("inputs", *path),
                at_value=True,
            )


# -- connections and capabilities --------------------------------------------------------


def _check_connections(spec: FlowSpec, doc: YamlDocument, registry: Registry) -> None:
    declared = _dict(doc.data.get("connections"))
    for name, conn in spec.connections.items():
        if name not in declared:
            _check_implicit(spec, doc, registry, name)
            continue
        path = ("connections", name)
        if not conn.connector:
            continue  # a schema error already
        if conn.connector not in registry.connectors:
            doc.report(
                "FE021",
                f"connection {name!r} uses connector {conn.connector!r}, which is not "
                f"installed{did_you_mean(conn.connector, registry.connectors)}",
                (*path, "connector"),
                at_value=True,
            )
            continue
        _check_literal(
            doc,
            (*path, "settings"),
            conn.settings,
            registry.settings[conn.connector],
            None,
            marker="${",
            what=f"connection {name!r} setting",
            secrets=registry.connectors[conn.connector].secret_settings,
        )


def _check_implicit(spec: FlowSpec, doc: YamlDocument, registry: Registry, name: str) -> None:
    """A connector used without a `connections:` entry must work with no settings."""
    if registry.settings[name].is_valid({}):
        return
    for node in spec.all_nodes.values():
        if node.connection == name:
            doc.report(
                "FE023",
                f"node {node.id!r} uses connector {name!r} without a connection, but it needs "
                f"settings; declare one under `connections:` (connector: {name}, settings: ...)",
                (*_node_path(node), "use"),
                at_value=True,
                node_id=node.id,
            )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _resolve_capabilities(
    spec: FlowSpec, doc: YamlDocument, registry: Registry
) -> dict[str, LoadedCapability]:
    found = {}
    for node in spec.all_nodes.values():
        if not node.use or "." not in node.use:
            continue  # a parallel block, or a schema error already reported
        path = (*_node_path(node), "use")
        conn = spec.connections.get(node.connection)
        if conn is None:
            names = sorted({*spec.connections, *registry.connectors})
            doc.report(
                "FE020",
                f"node {node.id!r} uses connection {node.connection!r}, which is neither "
                f"declared under `connections:` nor an installed connector"
                f"{did_you_mean(node.connection, names)} (known: {', '.join(names)})",
                path,
                at_value=True,
                node_id=node.id,
            )
            continue
        connector = registry.connectors.get(conn.connector)
        if connector is None:
            continue  # FE021 names the connection
        if node.capability not in connector.capabilities:
            known = sorted(connector.capabilities)
            doc.report(
                "FE022",
                f"connector {connector.name!r} has no capability {node.capability!r}"
                f"{did_you_mean(node.capability, known)} (it has: {', '.join(known)})",
                path,
                at_value=True,
                node_id=node.id,
            )
            continue
        found[node.id] = registry.capability(connector.name, node.capability)
    return found


def _has_template(value: Any, marker: str) -> bool:
    if isinstance(value, str):
        return marker in value
    if isinstance(value, dict):
        return any(_has_template(v, marker) for v in value.values())
    if isinstance(value, list):
        return any(_has_template(v, marker) for v in value)
    return False


def _is_literal_error(error: jsonschema.ValidationError, marker: str) -> bool:
    instance = error.instance
    if isinstance(instance, str) and marker in instance:
        return False  # a template: its value is known only when the run renders it
    return error.validator in _SHAPE_KEYWORDS or not _has_template(instance, marker)


def _check_literal(
    doc: YamlDocument,
    path: Path,
    value: Mapping[str, Any],
    schema: CompiledSchema,
    node_id: str | None,
    *,
    marker: str = "{{",
    what: str = "input",
    secrets: Collection[str] = (),
) -> None:
    if schema.is_valid(value):
        return
    code = "FE070" if marker == "{{" else "FE071"
    owner = f" of node {node_id!r}" if node_id else ""
    for error in schema.errors(value):
        if not _is_literal_error(error, marker):
            continue
        for where, message, at_value in explain(error):
            if where and where[0] in secrets:  # never echo a secret setting's value
                message = f"the value breaks the schema's {error.validator!r} rule"
            json_path = json_path_of(where)
            doc.report(
                code,
                f"{what} {json_path}{owner} is invalid: {message} ({schema.name})",
                (*path, *where),
                at_value=at_value,
                node_id=node_id,
                json_path=json_path,
            )


def explain(error: jsonschema.ValidationError) -> list[tuple[Path, str, bool]]:
    """(path, message, whether to point at the value) for each problem in one error."""
    path = tuple(error.absolute_path)
    extra = extra_keys(error)
    if extra:
        allowed = error.schema.get("properties", {})
        return [((*path, k), f"unknown key {k!r}{did_you_mean(k, allowed)}", False) for k in extra]
    if "propertyNames" in error.relative_schema_path:
        key = str(error.instance)
        return [((*path, key), f"invalid name {key!r}: {error.message}", False)]
    if error.validator in ("oneOf", "anyOf") and error.context:
        description = error.schema.get("description") if isinstance(error.schema, dict) else None
        if description:
            return [(path, f"{error.instance!r} is not valid; expected {description}", True)]
        return explain(best_match(error.context))
    return [(path, error.message, error.validator != "required")]


def json_path_of(path: Iterable[str | int]) -> str:
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += f"[{part!r}]"
    return out


def extra_keys(error: jsonschema.ValidationError) -> list[str]:
    """The keys an `additionalProperties: false` error is about (else [])."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return []
    if error.validator_value is not False or not isinstance(error.schema, dict):
        return []
    allowed = error.schema.get("properties", {})
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    return [
        k for k in error.instance if k not in allowed and not any(p.search(k) for p in patterns)
    ]


# -- outcomes ----------------------------------------------------------------------------


def _dynamic_outcomes(node: NodeSpec, cap: LoadedCapability) -> set[str] | None:
    """Outcome labels written in the node's inputs; None if a template hides some."""
    field = cap.capability.dynamic_outcomes
    if not field:
        return set()
    values: list[Any] = []
    source = node.inputs.get(field)
    if isinstance(source, dict):
        values.extend(source.values())
    elif isinstance(source, list):
        values.extend(source)
    elif source is not None:
        return None  # the whole field is a template
    if "default" in node.inputs:
        values.append(node.inputs["default"])
    if any(not isinstance(v, str) or "{{" in v for v in values):
        return None
    return set(values)


def _check_outcomes(
    spec: FlowSpec, doc: YamlDocument, caps: Mapping[str, LoadedCapability]
) -> None:
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
                doc.report(
                    "FE040",
                    f"node {node.id!r} routes outcome {outcome!r}, which {what} cannot report"
                    f"{did_you_mean(outcome, declared)} (it reports: {can})",
                    _route_path(doc, node.id, outcome),
                    node_id=node.id,
                )
        if node.routes:  # a node with no routes at all is an end of the flow
            _check_unrouted(doc, node, declared, what)


def _check_unrouted(doc: YamlDocument, node: NodeSpec, declared: set[str], what: str) -> None:
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
        doc.report(code, message, _node_path(node), warning=True, node_id=node.id)


# -- the graph ---------------------------------------------------------------------------


def _check_reachable(spec: FlowSpec, doc: YamlDocument) -> set[str]:
    if spec.start not in spec.graph:
        return set(spec.graph)  # FE030/FE031 already; don't bury them under more errors
    reachable = nx.descendants(spec.graph, spec.start) | {spec.start}
    for node in spec.all_nodes.values():
        if node.id in reachable or (node.parent is not None and node.parent not in reachable):
            continue  # an unreachable block's branches are not reported again
        doc.report(
            "FE050",
            f"node {node.id!r} is not reachable from the start node {spec.start!r}; route "
            "to it or remove it",
            _node_path(node),
            node_id=node.id,
        )
    return reachable


class _References:
    """Checks `{{ nodes.<id>... }}` references against the order nodes can run in."""

    def __init__(self, spec: FlowSpec, doc: YamlDocument, reachable: set[str]) -> None:
        self.spec = spec
        self.doc = doc
        self.reachable = reachable
        self.ordered = spec.start in spec.graph
        self._reach: dict[str, set[str]] = {}
        self._interval: dict[str, tuple[int, int]] = {}
        if self.ordered:
            self._interval = _dominator_intervals(spec.graph, spec.start)

    def check(self) -> None:
        for node in self.spec.all_nodes.values():
            if node.is_parallel:
                continue
            base = (*_node_path(node), "with")
            for ref in find_references(node.inputs, base):
                self.check_one(node, ref)

    def report(self, code: str, message: str, ref: Reference, node: NodeSpec, **kw: Any) -> None:
        self.doc.report(code, message, ref.path, at_value=True, node_id=node.id, **kw)

    def check_one(self, node: NodeSpec, ref: Reference) -> None:
        if ref.syntax_error:
            self.report("FE064", f"template {ref.expression!r}: {ref.syntax_error}", ref, node)
        elif ref.scope == "name":
            self._unknown_name(node, ref)
        elif ref.scope == "inputs":
            self._check_input(node, ref)
        else:
            self._check_node(node, ref)

    def _unknown_name(self, node: NodeSpec, ref: Reference) -> None:
        self.report(
            "FE066",
            f"{ref.expression!r} in node {node.id!r} uses the unknown name {ref.node!r}"
            f"{did_you_mean(ref.node, KNOWN_NAMES)} (names: nodes, inputs, vars, run; "
            f"functions: {', '.join(sorted(KNOWN_NAMES - {'nodes', 'inputs', 'vars', 'run'}))})",
            ref,
            node,
        )

    def _check_input(self, node: NodeSpec, ref: Reference) -> None:
        declared = self.spec.inputs_schema.get("properties")
        if ref.guarded or not isinstance(declared, dict) or ref.node in declared:
            return
        self.report(
            "FE065",
            f"{ref.expression!r} in node {node.id!r} reads inputs.{ref.node}, which `inputs:` "
            f"does not declare{did_you_mean(ref.node, declared)}",
            ref,
            node,
            warning=True,
        )

    def _check_node(self, node: NodeSpec, ref: Reference) -> None:
        if ref.node not in self.spec.all_nodes:
            self.report(
                "FE060",
                f"{ref.expression!r} in node {node.id!r} reads node {ref.node!r}, which does "
                f"not exist{did_you_mean(ref.node, self.spec.all_nodes)}",
                ref,
                node,
            )
            return
        if ref.field == "error" and not self._has_error_route(ref.node):
            self.report(
                "FE063",
                f"{ref.expression!r} in node {node.id!r} reads nodes.{ref.node}.error, but "
                f"{ref.node!r} has no `error` route, so no node runs after it fails; add "
                f"`on: {{error: {node.id}}}` to it",
                ref,
                node,
            )
        if not ref.guarded and self.ordered and node.id in self.reachable:
            self._check_order(node, ref)

    def _has_error_route(self, node_id: str) -> bool:
        node = self.spec.all_nodes[node_id]
        owner = self.spec.all_nodes.get(node.parent or "", node)
        return "error" in owner.routes

    def _check_order(self, node: NodeSpec, ref: Reference) -> None:
        target = self.spec.all_nodes[ref.node]
        if node.parent is not None and target.id == node.parent:
            self._cannot(node, ref, "it is the parallel block this branch belongs to")
            return
        if node.parent is not None and target.parent == node.parent:
            self._may_not(node, ref, "branches of one parallel block run concurrently")
            return
        # A branch has run once its block has: reason about the block.
        anchor = target.parent if target.parent is not None else target.id
        if self._dominates(anchor, node.id):
            return
        if anchor == node.id:
            if node.id in self._reachable_from(anchor):
                self._may_not(node, ref, "it has not run yet on its first visit")
            else:
                self._cannot(node, ref, "it is this node, and no loop leads back to it")
        elif node.id in self._reachable_from(anchor):
            self._may_not(node, ref, f"some paths to {node.id!r} skip it")
        else:
            self._cannot(node, ref, f"no path leads from {ref.node!r} to {node.id!r}")

    def _cannot(self, node: NodeSpec, ref: Reference, why: str) -> None:
        self.report(
            "FE061",
            f"{ref.expression!r} in node {node.id!r} reads node {ref.node!r}, which cannot "
            f"have run before it ({why})",
            ref,
            node,
        )

    def _may_not(self, node: NodeSpec, ref: Reference, why: str) -> None:
        self.report(
            "FE062",
            f"{ref.expression!r} in node {node.id!r} reads node {ref.node!r}, which may not "
            f"have run before it ({why}); wrap it as default(..., fallback) if that is expected",
            ref,
            node,
            warning=True,
        )

    def _dominates(self, a: str, b: str) -> bool:
        if a == b or a not in self._interval or b not in self._interval:
            return False
        (a_in, a_out), (b_in, b_out) = self._interval[a], self._interval[b]
        return a_in <= b_in and b_out <= a_out

    def _reachable_from(self, source: str) -> set[str]:
        """Nodes reached from `source` by paths of at least one edge (itself if on a loop)."""
        if source not in self._reach:
            seen: set[str] = set()
            todo = list(self.spec.graph.successors(source))
            while todo:
                current = todo.pop()
                if current not in seen:
                    seen.add(current)
                    todo.extend(self.spec.graph.successors(current))
            self._reach[source] = seen
        return self._reach[source]


def immediate_dominators(graph: nx.DiGraph, start: str) -> dict[str, str]:
    """Each reachable node's immediate dominator (start's is start): Lengauer-Tarjan.

    networkx's iterative algorithm turns quadratic on flows where many nodes share one
    error handler; this one stays near-linear on a 1,000-node flow.
    """
    order, parent = _dfs_preorder(graph, start)
    number = {node: i for i, node in enumerate(order)}
    semi: dict[str, str] = {}
    ancestor: dict[str, str] = {}
    best: dict[str, str] = {}
    bucket: dict[str, list[str]] = {}
    idom: dict[str, str] = {}
    same: dict[str, str] = {}
    for node in reversed(order[1:]):
        up = parent[node]
        s = up
        for pred in graph.pred[node]:
            if pred not in number:
                continue  # unreachable from start
            if number[pred] <= number[node]:
                candidate = pred
            else:
                candidate = semi[_lowest(pred, ancestor, best, semi, number)]
            if number[candidate] < number[s]:
                s = candidate
        semi[node] = s
        bucket.setdefault(s, []).append(node)
        ancestor[node] = up
        best[node] = node
        for v in bucket.pop(up, ()):
            y = _lowest(v, ancestor, best, semi, number)
            if semi[y] == semi[v]:
                idom[v] = up
            else:
                same[v] = y
    for node in order[1:]:
        if node in same:
            idom[node] = idom[same[node]]
    idom[start] = start
    return idom


def _dfs_preorder(graph: nx.DiGraph, start: str) -> tuple[list[str], dict[str, str]]:
    order = [start]
    parent: dict[str, str] = {}
    seen = {start}
    stack = [(start, iter(graph.succ[start]))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in seen:
                seen.add(child)
                parent[child] = node
                order.append(child)
                stack.append((child, iter(graph.succ[child])))
                break
        else:
            stack.pop()
    return order, parent


def _lowest(
    v: str,
    ancestor: dict[str, str],
    best: dict[str, str],
    semi: dict[str, str],
    number: dict[str, int],
) -> str:
    """The ancestor of `v` in the forest with the lowest semidominator (path-compressing)."""
    chain = []
    x = v
    while ancestor.get(x) is not None and ancestor.get(ancestor[x]) is not None:
        chain.append(x)
        x = ancestor[x]
    for x in reversed(chain):  # iterative, so deep flows never hit the recursion limit
        up = ancestor[x]
        b = best[up]
        ancestor[x] = ancestor[up]
        if number[semi[b]] < number[semi[best[x]]]:
            best[x] = b
    return best[v]


def _dominator_intervals(graph: nx.DiGraph, start: str) -> dict[str, tuple[int, int]]:
    """Entry/exit times in the dominator tree: a dominates b iff a's interval holds b's."""
    idom = immediate_dominators(graph, start)
    children: dict[str, list[str]] = {}
    for node, parent in idom.items():
        if node != parent:
            children.setdefault(parent, []).append(node)
    intervals: dict[str, tuple[int, int]] = {}
    clock = 0
    stack: list[tuple[str, bool]] = [(start, False)]
    entered: dict[str, int] = {}
    while stack:
        current, done = stack.pop()
        clock += 1
        if done:
            intervals[current] = (entered[current], clock)
            continue
        entered[current] = clock
        stack.append((current, True))
        stack.extend((child, False) for child in children.get(current, ()))
    return intervals

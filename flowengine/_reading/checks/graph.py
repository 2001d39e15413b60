"""Graph checks: nodes reachable from the start, and template reads in run order."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import networkx as nx

from flowengine._errors import did_you_mean
from flowengine._reading.checks.dominance import dominator_intervals
from flowengine._reading.diagnostic import Diagnostic
from flowengine._reading.expression import SCOPE_NAMES
from flowengine._reading.marked_yaml import Path, YamlDocument
from flowengine._reading.references import KNOWN_NAMES, Reference, find_references
from flowengine._reading.spec import FlowSpec, NodeSpec

__all__ = [
    "OutputSchema",
    "ReferenceChecker",
    "check_reachable",
    "node_path",
    "set_variable_names",
    "unlisted_key",
]

OutputSchema = tuple[dict[str, Any], str]
"""A node's output schema and what it is ("ui.form's output schema")."""
# Keywords that make a schema's keys depend on more than its `properties` (alternatives,
# references, conditions): such a schema is not judged.
_COMPOSITE = frozenset({"$ref", "$dynamicRef", "allOf", "anyOf", "oneOf", "if", "not"})

_NOT_FUNCTIONS = frozenset({*SCOPE_NAMES, "true", "false", "null"})


def node_path(node: NodeSpec) -> Path:
    """Where a node (or branch) is written in the file."""
    if node.parent is None:
        return ("nodes", node.id)
    return ("nodes", node.parent, "parallel", node.id)


def check_reachable(spec: FlowSpec, doc: YamlDocument) -> tuple[set[str], list[Diagnostic]]:
    """The nodes reachable from `start`, and a diagnostic for each other one (FE050)."""
    if spec.start not in spec.graph:
        return set(spec.graph), []  # FE030/FE031 already; don't bury them under more errors
    reachable = nx.descendants(spec.graph, spec.start) | {spec.start}
    problems: list[Diagnostic] = []
    for node in spec.all_nodes.values():
        if node.id in reachable or (node.parent is not None and node.parent not in reachable):
            continue  # an unreachable block's branches are not reported again
        problems.append(
            doc.diagnostic(
                "FE050",
                f"node {node.id!r} is not reachable from the start node {spec.start!r}; route "
                "to it or remove it",
                node_path(node),
                node_id=node.id,
            )
        )
    return reachable, problems


class ReferenceChecker:
    """Checks the reads in `{{ ... }}` templates: node ids against the order nodes can run
    in, input names against the `inputs:` schema, other names against the evaluator's."""

    def __init__(
        self,
        spec: FlowSpec,
        doc: YamlDocument,
        reachable: set[str],
        outputs: Mapping[str, OutputSchema] | None = None,
    ) -> None:
        self.spec = spec
        self.doc = doc
        self.reachable = reachable
        self.outputs = outputs or {}
        self.found: list[Diagnostic] = []
        self.ordered = spec.start in spec.graph
        self._reach: dict[str, set[str]] = {}
        self._interval: dict[str, tuple[int, int]] = {}
        if self.ordered:
            self._interval = dominator_intervals(spec.graph, spec.start)

    def check(self) -> list[Diagnostic]:
        """Check every template read in every node's inputs; the problems found."""
        for node in self.spec.all_nodes.values():
            if node.is_parallel:
                continue
            base = (*node_path(node), "with")
            for ref in find_references(node.inputs, base):
                self.check_one(node, ref)
        return self.found

    def report(self, code: str, message: str, ref: Reference, node: NodeSpec, **kw: Any) -> None:
        """Keep a diagnostic placed at the template's value in the file."""
        self.found.append(
            self.doc.diagnostic(code, message, ref.path, at_value=True, node_id=node.id, **kw)
        )

    def check_one(self, node: NodeSpec, ref: Reference) -> None:
        """Check one read: its syntax, then the name, input or node it reads."""
        if ref.unclosed:
            self._unclosed(node, ref)
        elif ref.too_large:
            shown = ref.expression[:60] + "..."
            self.report("FE074", f"template {shown!r}: {ref.syntax_error}", ref, node)
        elif ref.syntax_error:
            shown = ref.expression if len(ref.expression) <= 200 else ref.expression[:200] + "..."
            self.report("FE064", f"template {shown!r}: {ref.syntax_error}", ref, node)
        elif ref.scope == "name":
            self._unknown_name(node, ref)
        elif ref.scope == "inputs":
            self._check_input(node, ref)
        elif ref.scope == "vars":
            self._check_var(node, ref)
        else:
            self._check_node(node, ref)

    def _unclosed(self, node: NodeSpec, ref: Reference) -> None:
        """A `{{` never closed (FE067): the run would use the text as written."""
        text = ref.expression.rstrip()
        if text.startswith("{{"):
            fixed = f"{text}}}" if text.endswith("}") else f"{text} }}}}"
            slip = "has no closing `}}`"
        else:
            fixed, slip = "{" + text, "opens with one `{`"
        self.report(
            "FE067",
            f"template {text!r} in node {node.id!r} {slip}, so the run would use the text as "
            f"written; write {fixed!r}",
            ref,
            node,
        )

    def _unknown_name(self, node: NodeSpec, ref: Reference) -> None:
        """A bare name that is no scope, function or constant (FE066)."""
        self.report(
            "FE066",
            f"{ref.expression!r} in node {node.id!r} uses the unknown name {ref.node!r}"
            f"{did_you_mean(ref.node, KNOWN_NAMES)} (names: nodes, inputs, vars, run, error; "
            f"functions: {', '.join(sorted(KNOWN_NAMES - _NOT_FUNCTIONS))})",
            ref,
            node,
        )

    def _check_input(self, node: NodeSpec, ref: Reference) -> None:
        """`inputs.<name>` that `inputs:` does not declare (FE065)."""
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

    def _check_var(self, node: NodeSpec, ref: Reference) -> None:
        """`vars.<name>` that `variables:` does not declare and no node sets (FE069)."""
        known = self._variables
        if known is None or ref.node in known:
            return
        fix = did_you_mean(ref.node, known) or (
            "; declare it under `variables:` with its first value, or fix the name"
        )
        self.report(
            "FE069",
            f"{ref.expression!r} in node {node.id!r} reads vars.{ref.node}, which `variables:` "
            f"does not declare and no node sets{fix}",
            ref,
            node,
            warning=True,
        )

    @functools.cached_property
    def _variables(self) -> set[str] | None:
        """The variable names a run can hold: declared, or set by a node (its output schema's
        `set_vars`); None when a node may set names that cannot be known before the run."""
        known = set(self.spec.variables)
        for node_id, (schema, _) in self.outputs.items():
            node = self.spec.all_nodes[node_id]
            if node.is_parallel:
                continue  # its schema lists its branches' outputs, which are counted themselves
            if node.parent is None and not self.spec.graph.succ.get(node_id):
                continue  # the run ends after it: what it sets, no node reads
            names = set_variable_names(schema)
            if names is None:
                return None
            known |= names
        return known

    def _check_node(self, node: NodeSpec, ref: Reference) -> None:
        """`nodes.<id>`: the node exists, has an error route if `.error` is read, has run."""
        if ref.node not in self.spec.all_nodes:
            hint = did_you_mean(ref.node, self.spec.all_nodes)
            self._report_read("FE060", node, ref, f"does not exist{hint}")
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
        if ref.field == "output" and ref.tail and ref.node in self.outputs:
            self._check_output_keys(node, ref)

    def _check_output_keys(self, node: NodeSpec, ref: Reference) -> None:
        """A key the read node's output schema does not list (FE068, a warning: the schema
        may allow more than it lists)."""
        schema, owner = self.outputs[ref.node]
        skip = 0
        block = self.spec.all_nodes[ref.node]
        if block.is_parallel and ref.tail[0] in block.branches and ref.tail[0] in self.outputs:
            # nodes.<block>.output.<branch>...: judged by the branch's own schema.
            skip = 1
            schema, owner = self.outputs[str(ref.tail[0])]
            owner = f"{owner} (branch {ref.tail[0]!r})"
        found = unlisted_key(schema, ref.tail[skip:])
        if found is None:
            return
        depth, listed = found
        depth += skip
        key = ref.tail[depth]
        read = "output" + "".join(_step(k) for k in ref.tail[: depth + 1])
        self.report(
            "FE068",
            f"{ref.expression!r} in node {node.id!r} reads {read} of node {ref.node!r}, but "
            f"{owner} has no {key!r}{did_you_mean(str(key), listed)} (it has: "
            f"{', '.join(sorted(listed))}); fix the key",
            ref,
            node,
            warning=True,
        )

    def _has_error_route(self, node_id: str) -> bool:
        """Whether the node (or its parallel block) routes `error`."""
        node = self.spec.all_nodes[node_id]
        owner = self.spec.all_nodes.get(node.parent or "", node)
        return "error" in owner.routes

    def _check_order(self, node: NodeSpec, ref: Reference) -> None:
        """Whether the read node has surely (or possibly) run before this one (FE061, FE062)."""
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

    def _report_read(
        self, code: str, node: NodeSpec, ref: Reference, which: str, *, warning: bool = False
    ) -> None:
        """Report a read of `nodes.<id>`: "'<expression>' in node 'n' reads node 'x', which ..."."""
        message = f"{ref.expression!r} in node {node.id!r} reads node {ref.node!r}, which {which}"
        self.report(code, message, ref, node, warning=warning)

    def _cannot(self, node: NodeSpec, ref: Reference, why: str) -> None:
        """Report a read of a node that cannot have run yet (FE061)."""
        self._report_read(
            "FE061",
            node,
            ref,
            f"cannot have run before it ({why}); read it only in nodes that run after {ref.node!r}",
        )

    def _may_not(self, node: NodeSpec, ref: Reference, why: str) -> None:
        """Warn about a read of a node that may not have run yet (FE062)."""
        self._report_read(
            "FE062",
            node,
            ref,
            f"may not have run before it ({why}); wrap it as default(..., fallback) if that "
            "is expected",
            warning=True,
        )

    def _dominates(self, a: str, b: str) -> bool:
        """Whether every path from start to `b` passes through `a`."""
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


def set_variable_names(schema: Any) -> set[str] | None:
    """The variables an output with this schema may set (its `set_vars` keys); None when
    they cannot be known: the schema does not list its keys, or lists an open `set_vars`."""
    if not isinstance(schema, dict) or _COMPOSITE & schema.keys():
        return None
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return None
    if "set_vars" not in properties:
        return set()  # as for FE068: a schema that lists its keys lists them all
    keys = properties["set_vars"]
    listed = keys.get("properties") if isinstance(keys, dict) else None
    if not isinstance(listed, dict) or keys.get("additionalProperties", False) is not False:
        return None
    return set(listed)


def unlisted_key(schema: Any, keys: tuple[str | int, ...]) -> tuple[int, list[str]] | None:
    """(index in `keys`, the listed keys) of the first key `schema` does not list, or None.

    A key is judged only where the schema lists `properties`, matches no `patternProperties`
    and does not allow more keys explicitly (additionalProperties true or a schema).
    """
    for depth, key in enumerate(keys):
        if not isinstance(schema, dict) or _COMPOSITE & schema.keys():
            return None
        if isinstance(key, int):
            schema = schema.get("items")
            continue
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return None
        if key in properties:
            schema = properties[key]
            continue
        patterns = schema.get("patternProperties") or {}
        if any(re.search(p, key) for p in patterns):
            return None
        if schema.get("additionalProperties", False) is not False:
            return None
        return depth, list(properties)
    return None


def _step(key: str | int) -> str:
    """One key of a read as it is written: `.name`, `['a b']` or `[0]`."""
    if isinstance(key, int):
        return f"[{key}]"
    return f".{key}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) else f"[{key!r}]"

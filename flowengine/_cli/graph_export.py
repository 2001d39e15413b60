"""Drawing a flow: Mermaid and Graphviz DOT, with one run's path highlighted.

Edges are labelled with the outcomes that take them; a parallel block's edges to its
branches are dashed. With a run, the nodes it visited and the edges it took are drawn
in green, the node that failed in red and the node it waits at in amber.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flowengine._reading.spec import FlowSpec, NodeSpec

__all__ = ["FORMATS", "RunPath", "export", "run_path", "to_dot", "to_mermaid"]

FORMATS = ("mermaid", "dot")


@dataclass(frozen=True)
class RunPath:
    """What a run did on the graph: visited nodes, taken edges, where it failed or waits."""

    visited: frozenset[str] = frozenset()
    edges: frozenset[tuple[str, str]] = frozenset()
    failed: str | None = None
    waiting: str | None = None
    status: str = ""
    outcomes: Mapping[str, list[str]] = field(default_factory=dict)


def _node_outcomes(run: Any) -> list[tuple[str, str]]:
    """(node, outcome) pairs in run order, from the trace, else from the node results."""
    pairs = [(e["node"], e["outcome"]) for e in getattr(run, "trace", []) or [] if e.get("outcome")]
    if pairs:
        return pairs
    return [(n, r["outcome"]) for n, r in run.nodes.items() if r.get("outcome")]


def run_path(flow: FlowSpec, run: Any) -> RunPath:
    """The part of `flow` that `run` went through."""
    # Only this flow's nodes: a run of an older version may have visited nodes since removed.
    visited = (set(run.path) | set(run.nodes)) & set(flow.all_nodes)
    edges: set[tuple[str, str]] = set()
    outcomes: dict[str, list[str]] = {}
    for node_id, outcome in _node_outcomes(run):
        outcomes.setdefault(node_id, []).append(outcome)
        node = flow.all_nodes.get(node_id)
        if node is None:
            continue
        target = node.routes.get(outcome)
        if target is not None and target in visited:
            edges.add((node_id, target))
    for node_id in visited:
        node = flow.all_nodes.get(node_id)
        if node is not None and node.parent is not None:
            edges.add((node.parent, node_id))
    if flow.start in visited:
        edges.add(("__start__", flow.start))
    error = getattr(run, "error", None) or {}
    waiting = getattr(run, "waiting", None) or {}
    return RunPath(
        visited=frozenset(visited),
        edges=frozenset(edges),
        failed=error.get("node"),
        waiting=waiting.get("node"),
        status=getattr(run, "status", ""),
        outcomes=outcomes,
    )


def _edges(flow: FlowSpec) -> Iterable[tuple[str, str, str, bool]]:
    """(source, target, label, is_branch) for every edge of the flow's graph, in file order."""
    yield "__start__", flow.start, "", False
    for source, target, outcomes in flow.graph.edges(data="outcomes"):
        if flow.graph.nodes[target]["parent"] == source:  # a block's edge to its branch
            yield source, target, "", True
        else:
            yield source, target, " / ".join(outcomes), False


def _title(node: NodeSpec) -> str:
    """A node's label: title (or id) over what it uses."""
    what = "parallel" if node.is_parallel else node.use or ""
    return f"{node.id}\n{what}" if not node.title else f"{node.title}\n{what}"


# Mermaid ---------------------------------------------------------------------------


def _mid(node_id: str) -> str:
    """A Mermaid-safe id: ids may hold characters Mermaid reads as syntax."""
    if node_id == "__start__":
        return "start__"
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", node_id)


def _mlabel(text: str) -> str:
    """Text made safe inside a quoted Mermaid label."""
    return text.replace('"', "#quot;").replace("\n", "<br/>")


def _mermaid_node(node: NodeSpec) -> str:
    """A node's Mermaid line: a subroutine shape for parallel blocks."""
    label = _mlabel(_title(node))
    return (
        f'    {_mid(node.id)}[["{label}"]]'
        if node.is_parallel
        else f'    {_mid(node.id)}["{label}"]'
    )


def to_mermaid(flow: FlowSpec, path: RunPath | None = None) -> str:
    """The flow as a Mermaid flowchart."""
    lines = ["flowchart TD", "    start__((start))"]
    lines += [_mermaid_node(node) for node in flow.all_nodes.values()]
    taken: list[int] = []
    for index, (source, target, label, branch) in enumerate(_edges(flow)):
        arrow = "-.->" if branch else "-->"
        text = f'|"{_mlabel(label)}"|' if label else ""
        lines.append(f"    {_mid(source)} {arrow}{text} {_mid(target)}")
        if path and (source, target) in path.edges:
            taken.append(index)
    if path:
        lines += _mermaid_highlight(path, taken)
    return "\n".join(lines) + "\n"


def _mermaid_highlight(path: RunPath, taken: list[int]) -> list[str]:
    """Mermaid class and linkStyle lines that colour a run's path."""
    lines = [
        "    classDef visited fill:#d4edda,stroke:#28a745,stroke-width:2px",
        "    classDef failed fill:#f8d7da,stroke:#dc3545,stroke-width:3px",
        "    classDef waiting fill:#fff3cd,stroke:#ffc107,stroke-width:3px",
    ]
    plain = sorted(path.visited - {path.failed, path.waiting})
    if plain:
        lines.append(f"    class {','.join(_mid(n) for n in plain)} visited")
    for kind, node in (("failed", path.failed), ("waiting", path.waiting)):
        if node:
            lines.append(f"    class {_mid(node)} {kind}")
    if taken:
        indexes = ",".join(str(i) for i in taken)
        lines.append(f"    linkStyle {indexes} stroke:#28a745,stroke-width:3px")
    return lines


# DOT -------------------------------------------------------------------------------


def _q(text: str) -> str:
    """A DOT quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_node_style(node_id: str, path: RunPath | None) -> str:
    """DOT attributes that colour a node the run visited, failed at or waits at."""
    if path is None or node_id not in path.visited:
        return ""
    if node_id == path.failed:
        return ', style=filled, fillcolor="#f8d7da", color="#dc3545", penwidth=3'
    if node_id == path.waiting:
        return ', style=filled, fillcolor="#fff3cd", color="#ffc107", penwidth=3'
    return ', style=filled, fillcolor="#d4edda", color="#28a745", penwidth=2'


def to_dot(flow: FlowSpec, path: RunPath | None = None) -> str:
    """The flow as a Graphviz digraph."""
    lines = [f"digraph {_q(flow.id)} {{", "    node [shape=box, fontname=Helvetica];"]
    lines.append('    "__start__" [label="start", shape=circle];')
    for node in flow.all_nodes.values():
        shape = "box3d" if node.is_parallel else "box"
        style = _dot_node_style(node.id, path)
        lines.append(f"    {_q(node.id)} [label={_q(_title(node))}, shape={shape}{style}];")
    for source, target, label, branch in _edges(flow):
        attrs = [f"label={_q(label)}"] if label else []
        if branch:
            attrs.append("style=dashed")
        if path and (source, target) in path.edges:
            attrs.append('color="#28a745", penwidth=3')
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"    {_q(source)} -> {_q(target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def export(flow: FlowSpec, fmt: str = "mermaid", run: Any = None) -> str:
    """The flow drawn in `fmt` ("mermaid" or "dot"), with `run`'s path if given."""
    path = run_path(flow, run) if run is not None else None
    if fmt == "mermaid":
        return to_mermaid(flow, path)
    if fmt == "dot":
        return to_dot(flow, path)
    raise ValueError(f"unknown graph format {fmt!r}: use one of {', '.join(FORMATS)}")

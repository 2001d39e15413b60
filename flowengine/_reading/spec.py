"""The parsed flow: frozen objects that describe every path a flow can take.

A FlowSpec is built by `load_flow()` (loader.py) and never changes; a run
(`flowengine._storing.run`) points at it by its digest. Where a thing was written in the
file is kept as a Location, so every message can name file, line and column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

__all__ = ["ConnectionSpec", "FlowSettings", "FlowSpec", "Location", "NodeSpec", "RetrySpec"]


@dataclass(frozen=True, order=True)
class Location:
    """A place in a flow file; lines and columns count from 1."""

    file: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class ConnectionSpec:
    """A configured connector: `settings` as written, `${VAR}` not yet read."""

    name: str
    connector: str
    settings: Mapping[str, Any]
    location: Location


@dataclass(frozen=True)
class FlowSettings:
    """A flow's `settings:`: the run limits."""

    max_node_visits: int = 20
    timeout: float = 1800.0
    """Seconds a run may take from its start, waiting included."""


@dataclass(frozen=True)
class RetrySpec:
    """A node's `retry:` (docs/flows.md, "Retries and timeouts"), durations in seconds."""

    on: tuple[str, ...]
    """Error codes that are retried; "*" is any."""
    max_attempts: int = 3
    """Retries after the first call."""
    interval: float = 1.0
    backoff_rate: float = 2.0
    max_delay: float | None = None
    jitter: str = "none"

    def retries(self, code: str | None) -> bool:
        """Whether an error with this code is retried."""
        return "*" in self.on or code in self.on

    def delay(self, retry: int) -> float:
        """The computed delay before retry number `retry` (1 = the first), jitter aside."""
        delay = self.interval * self.backoff_rate ** (retry - 1)
        return min(delay, self.max_delay) if self.max_delay is not None else delay


@dataclass(frozen=True)
class NodeSpec:
    """One step: a capability call with inputs and routes, or a parallel block.

    `routes` maps outcomes to node ids (`next: x` is `{"success": "x"}`). A parallel
    block has `branches` (each a NodeSpec, addressable as `nodes.<branch id>`) and no `use`.
    """

    id: str
    use: str | None
    inputs: Mapping[str, Any]
    routes: Mapping[str, str]
    location: Location
    title: str = ""
    branches: Mapping[str, NodeSpec] = field(default_factory=dict)
    parent: str | None = None
    retry: RetrySpec | None = None
    timeout: float | None = None
    """Seconds the node may run (`timeout:`), or None."""

    @property
    def is_parallel(self) -> bool:
        """Whether this is a parallel block (it has branches, not `use`)."""
        return self.use is None

    @property
    def connection(self) -> str:
        """The connection name in `use: <connection>.<capability>`."""
        return (self.use or "").partition(".")[0]

    @property
    def capability(self) -> str:
        """The capability name in `use: <connection>.<capability>`."""
        return (self.use or "").partition(".")[2]


@dataclass(frozen=True)
class FlowSpec:
    """A whole flow, checked and compiled; `graph` is a networkx DiGraph.

    Graph nodes are node ids (branches included); an edge `a -> b` has `outcomes`, the
    outcomes of `a` that lead to `b`; edges from a parallel block to its branches have
    the outcome "branch".
    """

    id: str
    title: str
    file: str
    digest: str
    inputs_schema: Mapping[str, Any]
    variables: Mapping[str, Any]
    connections: Mapping[str, ConnectionSpec]
    settings: FlowSettings
    start: str
    nodes: Mapping[str, NodeSpec]
    """Top-level nodes, in file order (parallel blocks included, their branches not)."""
    all_nodes: Mapping[str, NodeSpec]
    """Every node by id, branches included."""
    locations: Mapping[tuple[str | int, ...], Location]
    """Where each key was written: ("nodes", "x", "use") -> Location."""
    graph: nx.DiGraph = field(compare=False, repr=False)

    def node(self, node_id: str) -> NodeSpec:
        """The node or branch with this id (KeyError if none)."""
        return self.all_nodes[node_id]

    def location(self, *path: str | int) -> Location:
        """The location of `path`, or of its nearest written ancestor."""
        while path:
            if path in self.locations:
                return self.locations[path]
            path = path[:-1]
        return Location(self.file)

"""Node plans: what the engine compiles once per flow digest and node.

A NodePlan holds everything a visit needs that does not change between visits (the
capability function, the compiled input renderer, the schemas, the declared outcomes), so
the hot path only looks things up. `build_plan` needs the node, its flow and the registry.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flowengine._errors import (
    NodeExecutionError,
    TemplateError,
)
from flowengine._plugins.registry import Registry
from flowengine._plugins.schema import CompiledSchema
from flowengine._reading.spec import FlowSpec, NodeSpec
from flowengine._reading.templating import Renderer, compile_value
from flowengine._running.typed_secrets import schema_secret_paths

__all__ = ["NodePlan", "build_plan"]


@dataclass(slots=True)
class NodePlan:
    """What a node needs at every visit, built once per flow digest."""

    node: NodeSpec
    func: Callable[..., Any]
    is_async: bool
    renderer: Renderer | None
    compile_error: TemplateError | None
    input: CompiledSchema
    output: CompiledSchema
    outcomes: frozenset[str] | None
    """Outcomes the capability may report; None when they depend on its inputs."""
    personal: tuple[str, ...]
    """The capability's personal data paths, redacted in trace events' input and output."""
    personal_waiting: tuple[str, ...]
    """The same, for a waiting event, whose output is the interaction: also inside its data."""
    connection: str
    connector: str
    qualname: str
    plugin_dir: str = ""
    """The folder of the capability function's file: an exception's `where` is inside it."""
    secret_inputs: tuple[tuple[str, ...], ...] = ()
    """Paths in the input its schema marks secret (writeOnly / x-secret): run secrets."""
    secret_outputs: tuple[tuple[str, ...], ...] = ()
    """The same in the output."""
    input_ok: Callable[[Any], bool] = bool
    """The input schema's fast check itself (jsonschema-rs), called without a wrapper."""
    output_ok: Callable[[Any], bool] = bool

    def check(self, direction: str, value: Any) -> None:
        """Raise SchemaValidationError when `value` does not fit the input or output schema."""
        schema = self.input if direction == "input" else self.output
        if schema.is_valid(value):  # the fast check; the full one only to explain a failure
            return
        where = f"Node {self.node.id!r} {direction}"
        if direction == "output":
            where += f" of {self.qualname}"
        schema.validate(
            value,
            where=where,
            node_id=self.node.id,
            capability=self.qualname,
            direction=direction,
        )


def build_plan(node: NodeSpec, flow: FlowSpec, registry: Registry) -> NodePlan:
    """Compile a node: its capability, its input renderer, its schemas."""
    conn = flow.connections.get(node.connection)
    connector = conn.connector if conn else node.connection
    try:
        loaded = registry.capability(connector, node.capability)
    except KeyError:
        raise NodeExecutionError(
            f"Node {node.id!r} uses {node.use!r}, but connector {connector!r} has no capability "
            f"{node.capability!r} in this engine's registry (is its plugin installed?)",
            node_id=node.id,
            code="UNKNOWN_CAPABILITY",
        ) from None
    renderer, error = None, None
    try:
        renderer = compile_value(dict(node.inputs), node_id=node.id)
    except TemplateError as e:
        error = e
    cap = loaded.capability
    personal = cap.personal_data
    if cap.personal_data_of is not None:
        personal = (*personal, *cap.personal_data_of(node.inputs))
    return NodePlan(
        node=node,
        func=cap.func,
        is_async=cap.is_async,
        renderer=renderer,
        compile_error=error,
        input=loaded.input,
        output=loaded.output,
        outcomes=None if cap.dynamic_outcomes else frozenset((*cap.outcomes, "error")),
        personal=personal,
        personal_waiting=(*personal, *(f"data.{p}" for p in personal)),
        connection=node.connection,
        connector=connector,
        qualname=loaded.qualname,
        plugin_dir=_folder(cap.func),
        secret_inputs=schema_secret_paths(loaded.input.schema),
        secret_outputs=schema_secret_paths(loaded.output.schema),
        # The hot path calls jsonschema-rs directly: two Python frames fewer per check.
        input_ok=loaded.input._fast.is_valid,
        output_ok=loaded.output._fast.is_valid,
    )


def _folder(func: Callable[..., Any]) -> str:
    code = getattr(inspect.unwrap(func), "__code__", None)
    return os.path.dirname(os.path.abspath(code.co_filename)) if code is not None else ""

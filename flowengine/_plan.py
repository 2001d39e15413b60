"""Node plans and node errors: what the engine compiles once per flow digest and node.

A NodePlan holds everything a visit needs that does not change between visits (the
capability function, the compiled input renderer, the schemas, the declared outcomes), so
the hot path only looks things up. The error helpers turn whatever a visit raised into the
`nodes.<id>.error` dict flows read.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match

from flowengine._schema import CompiledSchema
from flowengine.errors import (
    ConnectorError,
    NodeExecutionError,
    SchemaValidationError,
    TemplateError,
)
from flowengine.spec import FlowSpec, NodeSpec
from flowengine.templating import Renderer, compile_value

if TYPE_CHECKING:
    from flowengine.runtime import Engine

__all__ = [
    "NodePlan",
    "build_plan",
    "check_value",
    "error_dict",
    "exception_error",
    "schema_problem",
]


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

    def check(self, direction: str, value: Any) -> None:
        """Raise SchemaValidationError when `value` does not fit the input or output schema."""
        schema = self.input if direction == "input" else self.output
        if schema.is_valid(value):  # the fast check; the full one only to explain a failure
            return
        where = f"Node {self.node.id!r} {direction}"
        if direction == "output":
            where += f" of {self.qualname}"
        check_value(
            schema,
            value,
            where=where,
            node_id=self.node.id,
            capability=self.qualname,
            direction=direction,
        )


def build_plan(node: NodeSpec, flow: FlowSpec, engine: Engine) -> NodePlan:
    """Compile a node: its capability, its input renderer, its schemas."""
    conn = flow.connections.get(node.connection)
    connector = conn.connector if conn else node.connection
    try:
        loaded = engine.registry.capability(connector, node.capability)
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
    return NodePlan(
        node=node,
        func=cap.func,
        is_async=cap.is_async,
        renderer=renderer,
        compile_error=error,
        input=loaded.input,
        output=loaded.output,
        outcomes=None if cap.dynamic_outcomes else frozenset((*cap.outcomes, "error")),
        personal=cap.personal_data,
        personal_waiting=(*cap.personal_data, *(f"data.{p}" for p in cap.personal_data)),
        connection=node.connection,
        connector=connector,
        qualname=loaded.qualname,
    )


# Schema errors that name what was expected and what kind of value was found, never the
# value: node inputs and outputs carry personal data, and these messages go to the trace,
# the stored run and the terminal.


def check_value(schema: CompiledSchema, value: Any, *, where: str, **context: Any) -> None:
    """Raise SchemaValidationError (a message without the value) unless `value` matches."""
    if schema.is_valid(value):
        return
    errors = schema.errors(value)
    if not errors:  # the two implementations disagree; trust the reference one
        return
    best = best_match(errors)
    path = str(best.json_path)
    raise SchemaValidationError(
        f"{where} invalid at {path}: {schema_problem(best)}",
        json_path=path,
        errors=errors,
        node_id=context.get("node_id"),
        capability=context.get("capability"),
        direction=context.get("direction"),
    )


def _kind(value: Any) -> str:
    """What a value is, without the value: 'a string of 3 characters', 'an object'."""
    if isinstance(value, str):
        return f"a string of {len(value)} character{'s' if len(value) != 1 else ''}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"an array of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"a {type(value).__name__}"


def _short(value: Any, limit: int = 120) -> str:
    """A schema keyword's value for a message, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _suggestion(value: Any, choices: Any) -> str:
    """'; did you mean 'EU'?' for a string close to one of `choices` (itself never shown)."""
    if not isinstance(value, str) or not isinstance(choices, list):
        return ""
    names = [c for c in choices if isinstance(c, str)]
    same = [c for c in names if c.casefold() == value.casefold()]
    close = same or difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def schema_problem(error: ValidationError) -> str:
    """One jsonschema error in words: the constraint and the kind of value, not the value."""
    keyword, expected, found = error.validator, error.validator_value, error.instance
    kind = _kind(found)
    if keyword == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {wanted}, found {kind}"
    if keyword == "enum":
        return f"{kind} is not one of {_short(expected)}{_suggestion(found, expected)}"
    if keyword == "const":
        return f"{kind} is not {_short(expected)}{_suggestion(found, [expected])}"
    if keyword == "required" and isinstance(found, dict):
        missing = [name for name in expected if name not in found]
        return (
            f"required {'property' if len(missing) == 1 else 'properties'} "
            + ", ".join(repr(m) for m in missing)
            + " missing"
        )
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        return error.message  # names the unexpected keys, not their values
    if keyword in ("anyOf", "oneOf") and isinstance(expected, list):
        return _alternatives(error, kind, len(expected))
    if keyword == "format":
        return f"{kind} is not a valid {expected!r}"
    if keyword == "pattern":
        return f"{kind} does not match the pattern {_short(expected)}"
    return f"{kind} does not satisfy {keyword}: {_short(expected)}"


def _alternatives(error: ValidationError, kind: str, count: int) -> str:
    """An anyOf / oneOf failure: the types it allows when those are what failed."""
    wanted: list[str] = []
    for sub in error.context or ():
        if sub.validator == "type" and not sub.relative_path:
            value = sub.validator_value
            wanted.extend(
                v for v in (value if isinstance(value, list) else [value]) if v not in wanted
            )
    if wanted and len(wanted) >= count:  # every alternative failed on its type
        return f"expected {' or '.join(wanted)}, found {kind}"
    many = " (or several)" if error.validator == "oneOf" else ""
    return f"{kind} matches none{many} of the {count} schemas {error.validator} allows"


def _schema_error(e: SchemaValidationError, code: str) -> dict[str, Any]:
    details = [
        {"json_path": str(err.json_path), "message": schema_problem(err)} for err in e.errors[:10]
    ]
    return {
        "code": code,
        "message": str(e),
        "json_path": e.json_path,
        "details": details,
        "status_code": None,
        "correlation_id": None,
    }


def error_dict(code: str, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "details": [],
        "status_code": None,
        "correlation_id": None,
    }


def exception_error(e: BaseException) -> dict[str, Any]:
    if isinstance(e, ConnectorError):
        return e.to_dict()
    if isinstance(e, SchemaValidationError):
        return _schema_error(e, "INPUT_INVALID" if e.direction == "input" else "OUTPUT_INVALID")
    if isinstance(e, TemplateError):
        err = error_dict("TEMPLATE_ERROR", str(e))
        err.update(expression=e.expression, field=e.field)
        return err
    return error_dict("UNEXPECTED_ERROR", f"{type(e).__name__}: {e}")

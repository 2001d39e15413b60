"""The exceptions flowengine raises.

Our exception hierarchy:

* FlowEngineError
  x FlowDefinitionError       a flow file is not valid (carries every Diagnostic)
  x PluginError               a plugin registered something broken, at load time
  x SchemaValidationError     a value broke a JSON Schema (input, output, settings)
  x TemplateError             a {{ ... }} expression could not be evaluated
  x NodeExecutionError        a node failed and the run cannot go on
  x RunError                  a run cannot be started, resumed or found
    + FlowChangedError        a waiting run's flow file changed since it started
  x ConnectorError            a capability failed; becomes the node's `error` outcome
                              (a connector may subclass it for its own errors)

Every exception carries its context as attributes (`flow_file`, `node_id`, `json_path`, ...),
so callers read fields instead of parsing messages. No exception ever holds a secret:
a SchemaValidationError keeps its problems as `SchemaProblem` records (where, which
keyword, in words), never the value that failed. `did_you_mean` gives messages their fix.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ConnectorError",
    "FlowChangedError",
    "FlowDefinitionError",
    "FlowEngineError",
    "NodeExecutionError",
    "PluginError",
    "RunConflictError",
    "RunError",
    "SchemaProblem",
    "SchemaValidationError",
    "TemplateError",
    "did_you_mean",
]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """'; did you mean 'x'?' for the closest candidate, or '' (for messages that name the fix)."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


class FlowEngineError(Exception):
    """Base class of every error flowengine raises on purpose."""


class FlowDefinitionError(FlowEngineError):
    """A flow file is not valid; `.diagnostics` lists every problem found."""

    def __init__(self, flow_file: str, diagnostics: list[Any]) -> None:
        self.flow_file = flow_file
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if getattr(d, "severity", "error") == "error"]
        lines = "\n".join(str(d) for d in errors)
        super().__init__(f"{flow_file}: {len(errors)} error(s)\n{lines}")


class PluginError(FlowEngineError):
    """A plugin registered a connector or capability that cannot be used."""

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        self.plugin = plugin
        super().__init__(f"Plugin {plugin!r}: {message}" if plugin else message)


@dataclass(frozen=True, slots=True)
class SchemaProblem:
    """One way a value broke a schema, as data without the value (jsonschema's error, kept safe)."""

    json_path: str
    """Where, as a JSON path: `$.policy.email`."""
    path: tuple[str | int, ...]
    """Where, as keys and indexes from the top of the value."""
    validator: str
    """The schema keyword that failed: `type`, `enum`, `required`, ..."""
    schema_path: tuple[str | int, ...]
    """Where the keyword is in the schema."""
    message: str
    """The problem in words: the constraint and the kind of value, never the value."""
    expected: Any = None
    """The keyword's value in the schema (e.g. the types allowed); never the value checked."""
    found: str = ""
    """The JSON type of the value checked (`string`, `integer`, ...), not the value."""
    context: tuple[SchemaProblem, ...] = ()
    """For anyOf / oneOf: how each alternative failed."""


class SchemaValidationError(FlowEngineError):
    """A value does not match a JSON Schema; `.errors` lists every problem, value-free."""

    def __init__(
        self,
        message: str,
        *,
        json_path: str = "$",
        errors: Sequence[SchemaProblem] = (),
        node_id: str | None = None,
        capability: str | None = None,
        direction: str | None = None,
    ) -> None:
        self.json_path = json_path
        self.errors: tuple[SchemaProblem, ...] = tuple(errors)
        self.node_id = node_id
        self.capability = capability
        self.direction = direction
        super().__init__(message)


class TemplateError(FlowEngineError):
    """A template expression failed: it names the node, the input field and the expression."""

    def __init__(
        self,
        message: str,
        *,
        expression: str | None = None,
        node_id: str | None = None,
        field: str | None = None,
    ) -> None:
        self.expression = expression
        self.node_id = node_id
        self.field = field
        super().__init__(message)


class NodeExecutionError(FlowEngineError):
    """A node could not run (loop limit, unrouted error, timeout) and the run failed."""

    def __init__(
        self, message: str, *, node_id: str | None = None, code: str = "NODE_FAILED"
    ) -> None:
        self.node_id = node_id
        self.code = code
        super().__init__(message)


class RunError(FlowEngineError):
    """A run cannot be started, resumed or found."""

    def __init__(self, message: str, *, run_id: str | None = None) -> None:
        self.run_id = run_id
        super().__init__(message)


class FlowChangedError(RunError):
    """A waiting run pinned a flow digest that no longer matches the flow file."""


class RunConflictError(RunError):
    """A save was based on an older version of the run than the store holds: another
    request or server changed the run since it was read; nothing was written."""

    def __init__(
        self, message: str, *, run_id: str | None = None, stored: int | None = None
    ) -> None:
        self.stored = stored
        super().__init__(message, run_id=run_id)


class ConnectorError(FlowEngineError):
    """A capability failed. The engine turns it into the node's `error` outcome.

    `to_dict()` is what flows see as `nodes.<id>.error`.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "CONNECTOR_ERROR",
        details: list[dict[str, Any]] | None = None,
        status_code: int | None = None,
        correlation_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.details = details or []
        self.status_code = status_code
        self.correlation_id = correlation_id
        self.retry_after = retry_after
        """Seconds the service asked to wait before trying again (an HTTP `Retry-After`), or
        None; a node's `retry:` waits at least that long."""
        super().__init__(message)

    def to_dict(self) -> dict[str, Any]:
        """The error as flows see it: `nodes.<id>.error` (`retry_after` only when set)."""
        found: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "details": self.details,
            "status_code": self.status_code,
            "correlation_id": self.correlation_id,
        }
        if self.retry_after is not None:
            found["retry_after"] = self.retry_after
        return found

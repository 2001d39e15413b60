"""The connector API: what a plugin builds and registers.

A Connector has a name, a settings schema and capabilities. A Capability is one function,
`def` or `async def`, taking `(inputs, ctx)` and returning one of:

* a dict: the output, with the outcome "success";
* `Outcome(name, output)`: the output with another outcome ("true", "No match", ...);
* `Interaction(...)`: the run pauses until someone responds; the function is then called
  again with the same inputs and `ctx.response` set, and decides output and outcome.

Raising `ConnectorError` (or any exception) gives the node its `error` outcome.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowengine._clock import Clock

__all__ = ["CallContext", "Capability", "Connector", "Interaction", "Outcome", "is_idempotent"]

READ_PREFIXES = ("read", "find", "get", "list", "search", "check", "lookup")
"""Capability names that read (`readUser`, `findUsers`): idempotent unless they say not."""

DEFAULT_OUTCOMES = ("success", "error")


@dataclass(frozen=True)
class Outcome:
    """A capability's result with an outcome other than "success"."""

    name: str
    output: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Interaction:
    """What a paused run waits for.

    `kind` is "form", "qr" or "message" for the built-in ui connector (each maps onto
    DaVinci client collectors, see docs/architecture.md). `data` is shown to the user and
    is JSON. `poll_interval` (seconds) means the run may be continued without an answer
    once that time has passed (QR code and polling screens).
    """

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    poll_interval: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The interaction as JSON, as stored on a waiting run."""
        return {"kind": self.kind, "data": self.data, "poll_interval": self.poll_interval}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Interaction:
        """The interaction from its to_dict() form."""
        return cls(value["kind"], dict(value.get("data") or {}), value.get("poll_interval"))


@dataclass
class CallContext:
    """What a capability function gets besides its inputs."""

    run_id: str
    node_id: str
    visit: int
    settings: Mapping[str, Any]
    connection: Any
    clock: Clock
    response: Any = None
    """The user's response when the node resumes after an Interaction; None on the first call."""
    vars: Mapping[str, Any] = field(default_factory=dict)
    """The run's variables (read-only; capabilities change them by their output)."""


CapabilityFunc = Callable[[dict[str, Any], CallContext], Any]


@dataclass(frozen=True)
class Capability:
    """One operation of a connector, with its schemas and the outcomes it can report.

    `input_schema` / `output_schema` left as None are read from
    `<schema_dir>/<connector>/<name>.input.json` / `.output.json` when the plugin loads.
    `outcomes` lists every outcome the function can return; "error" is always possible.
    `dynamic_outcomes` names the input field (or fields) whose values are outcomes too: a
    mapping's values, a list's items or a single label (a switch's `cases` and `default`).
    `personal_data` lists dotted paths (`*` for any key or item) inside the input and
    output that traces redact by default (`error.<path>`: inside the node's error, e.g. a
    message built from the run); `personal_data_of(with_)`, when set, adds paths for one
    node from its `with:` as written in the flow (variables.set: the templated ones).
    `output_schema_of(with_)`, when set, gives one node's output schema from its `with:` as
    written (ui.form: its fields), or None; `flowengine validate` checks reads against it.
    """

    name: str
    func: CapabilityFunc
    title: str = ""
    description: str = ""
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    outcomes: tuple[str, ...] = DEFAULT_OUTCOMES
    dynamic_outcomes: str | tuple[str, ...] | None = None
    personal_data: tuple[str, ...] = ()
    personal_data_of: Callable[[Mapping[str, Any]], tuple[str, ...]] | None = None
    output_schema_of: Callable[[Mapping[str, Any]], dict[str, Any] | None] | None = None
    interactive: bool = False
    idempotent: bool | None = None
    """Whether calling it twice does no more than calling it once, so a node may `retry:` it.
    None: the connector's `idempotent`, else True for read names (read*, find*, get*, list*,
    search*, check*, lookup*) and False for everything else (creates, updates, deletes)."""

    @property
    def outcome_fields(self) -> tuple[str, ...]:
        """The input fields named by `dynamic_outcomes`, as a tuple."""
        fields = self.dynamic_outcomes
        return (fields,) if isinstance(fields, str) else tuple(fields or ())

    @property
    def is_async(self) -> bool:
        """Whether the function is `async def`."""
        return inspect.iscoroutinefunction(self.func)


Opener = Callable[[Mapping[str, Any]], Any | Awaitable[Any]]
Closer = Callable[[Any], Any | Awaitable[Any]]


@dataclass
class Connector:
    """A type of connection: a name, a settings schema and capabilities.

    `open(settings)` (optional, may be async) builds the per-connection state that
    capabilities see as `ctx.connection` (an HTTP client, say); the engine opens one per
    distinct settings and calls `close(state)` when it shuts down.
    """

    name: str
    title: str = ""
    description: str = ""
    settings_schema: dict[str, Any] = field(
        default_factory=lambda: {"type": "object", "additionalProperties": True}
    )
    schema_dir: Path | None = None
    """Where `<name>/<capability>.input.json` files live; None means flowengine's schemas/."""
    open: Opener | None = None
    close: Closer | None = None
    secret_settings: tuple[str, ...] = ()
    """Settings whose values are always redacted (client secrets, passwords)."""
    idempotent: bool | None = None
    """The default of its capabilities' `idempotent` (True: none has side effects)."""
    capabilities: dict[str, Capability] = field(default_factory=dict)

    def capability(
        self,
        name: str | None = None,
        *,
        title: str = "",
        outcomes: tuple[str, ...] = DEFAULT_OUTCOMES,
        dynamic_outcomes: str | tuple[str, ...] | None = None,
        personal_data: tuple[str, ...] = (),
        personal_data_of: Callable[[Mapping[str, Any]], tuple[str, ...]] | None = None,
        output_schema_of: Callable[[Mapping[str, Any]], dict[str, Any] | None] | None = None,
        interactive: bool = False,
        input_schema: dict[str, Any] | None = None,
        output_schema: dict[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Callable[[CapabilityFunc], CapabilityFunc]:
        """Decorator: add the function as a capability (named after it unless `name`)."""

        def decorate(func: CapabilityFunc) -> CapabilityFunc:
            cap = Capability(
                name=name or func.__name__,
                func=func,
                title=title,
                description=inspect.getdoc(func) or "",
                input_schema=input_schema,
                output_schema=output_schema,
                outcomes=outcomes,
                dynamic_outcomes=dynamic_outcomes,
                personal_data=personal_data,
                personal_data_of=personal_data_of,
                output_schema_of=output_schema_of,
                interactive=interactive,
                idempotent=idempotent,
            )
            self.add(cap)
            return func

        return decorate

    def add(self, capability: Capability) -> None:
        """Add a capability; a name used twice is a PluginError."""
        if capability.name in self.capabilities:
            from flowengine._errors import PluginError

            raise PluginError(
                f"connector {self.name!r} defines capability {capability.name!r} twice",
                plugin=self.name,
            )
        self.capabilities[capability.name] = capability


def is_idempotent(connector: Connector, capability: Capability) -> bool:
    """Whether a node may retry the capability (`Capability.idempotent`, resolved)."""
    if capability.idempotent is not None:
        return capability.idempotent
    if connector.idempotent is not None:
        return connector.idempotent
    return capability.name.startswith(READ_PREFIXES)

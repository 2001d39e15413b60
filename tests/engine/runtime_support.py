"""Small test connectors and helpers for the runtime tests (also used by resume_child.py)."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

from flowengine import (
    CallContext,
    Connector,
    ConnectorError,
    FlowSpec,
    Interaction,
    Outcome,
    Registry,
    VirtualClock,
    load_flow,
)

OBJ: dict[str, Any] = {"type": "object"}

EVENTS: list[str] = []
"""What the test connectors did, in order (cleared by `make_registry`)."""


def make_connector() -> Connector:
    """The `t` connector: one small capability per behaviour the engine must handle."""
    opened: list[dict[str, Any]] = []

    def open_(settings: Any) -> dict[str, Any]:
        state = {"settings": dict(settings), "closed": False}
        opened.append(state)
        EVENTS.append("open")
        return state

    async def close(state: dict[str, Any]) -> None:
        state["closed"] = True
        EVENTS.append("close")

    conn = Connector(
        name="t",
        settings_schema={
            "type": "object",
            "properties": {"token": {"type": "string"}, "level": {"type": "integer"}},
        },
        open=open_,
        close=close,
        secret_settings=("token",),
    )
    conn.opened = opened  # type: ignore[attr-defined]  # test-only bookkeeping
    _add_plain(conn)
    _add_failing(conn)
    _add_async(conn)
    _add_hanging(conn)
    return conn


def _add_plain(conn: Connector) -> None:
    @conn.capability(input_schema=OBJ, output_schema=OBJ)
    def echo(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return dict(inputs)

    @conn.capability(input_schema=OBJ, output_schema=OBJ, outcomes=("true", "false"))
    def check(inputs: dict[str, Any], ctx: CallContext) -> Outcome:
        return Outcome("true" if inputs.get("value") else "false", {"value": inputs.get("value")})

    @conn.capability(input_schema=OBJ, output_schema=OBJ, interactive=True)
    def ask(inputs: dict[str, Any], ctx: CallContext) -> Any:
        if ctx.response is None:
            return Interaction("form", {"fields": inputs.get("fields", [])})
        if ctx.response.get("retry"):
            return Interaction("form", {"fields": [], "errors": ["again"]})
        return {"answer": ctx.response, "visit": ctx.visit}

    @conn.capability(input_schema=OBJ, output_schema=OBJ)
    def setvar(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {"set_vars": dict(inputs), "seen": dict(ctx.vars)}

    @conn.capability(
        input_schema={
            "type": "object",
            "required": ["userId"],
            "properties": {"userId": {"type": "string"}, "age": {"type": "integer"}},
        },
        output_schema={"type": "object", "required": ["id"], "properties": {"id": {}}},
    )
    def typed(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {"id": inputs["userId"]} if inputs.get("age") != 0 else {"nope": 1}

    @conn.capability(input_schema=OBJ, output_schema=OBJ, outcomes=("success", "odd"))
    def undeclared(inputs: dict[str, Any], ctx: CallContext) -> Outcome:
        return Outcome(inputs.get("name", "weird"), {})

    @conn.capability(input_schema=OBJ, output_schema=OBJ)
    def settings(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {"token": ctx.settings.get("token"), "connection": ctx.connection is not None}

    @conn.capability(
        input_schema=OBJ,
        output_schema=OBJ,
        personal_data=("user.email", "documents.*.number"),
    )
    def personal(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return dict(inputs)

    @conn.capability(input_schema=OBJ, output_schema=OBJ)
    def tick(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        clock = ctx.clock
        assert isinstance(clock, VirtualClock)
        clock.advance(float(inputs.get("seconds", 0)))
        return {"now": clock.now()}

    @conn.capability(input_schema=OBJ, output_schema=OBJ)
    def notdict(inputs: dict[str, Any], ctx: CallContext) -> Any:
        return ["not", "a", "dict"]


def _add_failing(conn: Connector) -> None:
    @conn.capability(input_schema=OBJ, output_schema=OBJ)
    def fail(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        raise ConnectorError(
            inputs.get("message", "it failed"), code=inputs.get("code", "E1"), status_code=400
        )

    @conn.capability(input_schema=OBJ, output_schema=OBJ)
    def boom(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        raise ValueError(f"kaput {inputs.get('detail', '')}")


def _add_async(conn: Connector) -> None:
    @conn.capability(input_schema=OBJ, output_schema=OBJ)
    async def slow(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        name = ctx.node_id
        EVENTS.append(f"start {name}")
        try:
            for _ in range(int(inputs.get("steps", 1))):
                await asyncio.sleep(0)
            if inputs.get("fail"):
                EVENTS.append(f"fail {name}")
                raise ConnectorError(f"{name} failed", code="BRANCH_FAILED")
            if inputs.get("ask"):
                return Interaction("form", {})  # type: ignore[return-value]
        except asyncio.CancelledError:
            EVENTS.append(f"cancelled {name}")
            raise
        EVENTS.append(f"end {name}")
        return {"node": name, "steps": inputs.get("steps", 1)}


def _add_hanging(conn: Connector) -> None:
    @conn.capability(input_schema=OBJ, output_schema=OBJ)
    async def hang(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        """Sleep `seconds` on the run's clock, then wait for ever: only a deadline ends it."""
        EVENTS.append(f"hang {ctx.node_id}")
        await ctx.clock.sleep(float(inputs.get("seconds", 0)))
        await asyncio.Event().wait()
        raise AssertionError("not reached")


def make_registry() -> Registry:
    """A registry holding only the `t` connector."""
    EVENTS.clear()
    registry = Registry()
    registry.add_connector(make_connector(), "test")
    return registry


def write_flow(directory: Path, text: str, name: str = "flow.yaml") -> Path:
    """Write a flow file (dedented) and return its path."""
    path = directory / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def load(directory: Path, text: str, registry: Registry, name: str = "flow.yaml") -> FlowSpec:
    """Write and load a flow."""
    return load_flow(write_flow(directory, text, name), registry)


ASK_FLOW = """
flow: ask
start: first
nodes:
  first:
    use: t.echo
    with: {greeting: "hello {{ inputs.name }}"}
    next: question
  question:
    use: t.ask
    with: {fields: [colour]}
    next: done
  done:
    use: t.echo
    with:
      colour: "{{ nodes.question.output.answer.colour }}"
      greeting: "{{ nodes.first.output.greeting }}"
"""
"""A flow that waits at `question` (used by the store and subprocess tests too)."""

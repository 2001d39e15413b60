"""Runtime: values a schema marks writeOnly / x-secret, and typed passwords, are run secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runtime_support import load

from flowengine import (
    CallContext,
    Connector,
    ConnectorError,
    Engine,
    Interaction,
    Registry,
    SQLiteStore,
    VirtualClock,
)

TOKEN = "tok-3f9a-very-secret"
PASSWORD = "hunter2!"


def _registry() -> Registry:
    conn = Connector(name="s")

    @conn.capability(
        input_schema={"type": "object"},
        output_schema={
            "type": "object",
            "properties": {
                "token": {"type": "string", "writeOnly": True},
                "keys": {"type": "array", "items": {"type": "string", "x-secret": True}},
                "user": {"type": "string"},
            },
        },
    )
    def issue(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {"token": TOKEN, "keys": ["key-one-1234"], "user": "ada"}

    @conn.capability(input_schema={"type": "object"}, output_schema={"type": "object"})
    def use(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        if inputs.get("fail"):
            raise ConnectorError(f"rejected {inputs['token']} and {inputs.get('password')}")
        return {"echo": inputs}

    @conn.capability(
        input_schema={"type": "object"}, output_schema={"type": "object"}, interactive=True
    )
    def login(inputs: dict[str, Any], ctx: CallContext) -> Any:
        if ctx.response is None:
            fields = [{"name": "user"}, {"name": "password", "type": "password"}]
            fields.append({"name": "pin", "writeOnly": True})
            return Interaction("form", {"fields": fields})
        return dict(ctx.response)

    registry = Registry()
    registry.add_connector(conn, "test")
    return registry


FLOW = """
flow: secrets
start: login
nodes:
  login: {use: s.login, next: issue}
  issue: {use: s.issue, next: call}
  call:
    use: s.use
    with:
      token: "{{ nodes.issue.output.token }}"
      password: "{{ nodes.login.output.password }}"
      fail: true
"""


async def test_marked_and_typed_secrets_are_redacted_everywhere(
    tmp_path: Path, clock: VirtualClock
) -> None:
    registry = _registry()
    flow = load(tmp_path, FLOW, registry)
    events: list[dict[str, Any]] = []
    store = SQLiteStore(tmp_path / "runs.db")
    async with Engine(
        registry, store=store, clock=clock, environ={}, trace_sinks=[events.append]
    ) as engine:
        run = await engine.start(flow)
        run = await engine.resume(run.id, {"user": "ada", "password": PASSWORD, "pin": "4321-77"})
    assert run.status == "failed"
    # The real values reached the capability in this pass (the error was built from them) ...
    assert run.nodes["call"]["error"] is not None
    # ... and nothing that leaves the engine holds them.
    stored = json.dumps((await store.load(run.id)).to_dict())
    for secret in (TOKEN, PASSWORD, "key-one-1234", "4321-77"):
        assert secret not in stored
        assert secret not in json.dumps(events)
        assert secret not in json.dumps(run.to_dict())
    assert "rejected [REDACTED] and [REDACTED]" in json.dumps(run.to_dict()["error"])
    assert (await store.load(run.id)).nodes["issue"]["output"]["user"] == "ada"

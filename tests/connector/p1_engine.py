"""Running PingOne capabilities through the engine against an in-process sandbox."""

from __future__ import annotations

import json
from typing import Any

from flowengine import Engine, Registry, Run, load_flow

SANDBOX_SETTINGS = {
    "environment_id": "env-engine-tests",
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
    "region": "sandbox",
}


def one_node_flow(
    connector: str, capability: str, inputs: dict[str, Any], settings: dict[str, Any] | None = None
) -> str:
    """The text of a flow whose only node calls `capability` with literal inputs."""
    flow = {
        "flow": f"one-{capability.lower()}",
        "connections": {"c": {"connector": connector, "settings": settings or SANDBOX_SETTINGS}},
        "start": "n",
        "nodes": {"n": {"use": f"c.{capability}", "with": inputs}},
    }
    return json.dumps(flow)  # JSON is YAML


async def run_capability(
    engine: Engine,
    registry: Registry,
    connector: str,
    capability: str,
    inputs: dict[str, Any],
    settings: dict[str, Any] | None = None,
) -> Run:
    """One run of a one-node flow; completed (result = output) or failed (error kept)."""
    text = one_node_flow(connector, capability, inputs, settings)
    flow = load_flow(f"<{capability}>.yaml", registry, text=text)
    return await engine.start(flow)


async def output_of(
    engine: Engine, registry: Registry, connector: str, capability: str, **inputs: Any
) -> Any:
    """The output of a capability run that must succeed."""
    run = await run_capability(engine, registry, connector, capability, inputs)
    assert run.status == "completed", (capability, run.error)
    return run.result

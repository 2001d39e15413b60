"""Helpers of the flow library tests: where the flows are and how answers files are read."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
from flowengine_connectors.pingone_sandbox import Sandbox

from flowengine import Answers, Run

FLOWS = Path(__file__).resolve().parents[2] / "flows"

RunFlow = Callable[..., Coroutine[Any, Any, Run]]
ENV = "sandbox-env"


def answers_of(flow: str, name: str, **changes: Any) -> Answers:
    """The answers file `flows/<flow>/<name>.yaml`, with some node answers replaced."""
    answers = Answers.load(FLOWS / flow / f"{name}.yaml")
    answers.responses.update(changes)
    return answers


async def admin_request(
    sandbox: Sandbox, method: str, path: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    """An administrator's call to the sandbox's API (what the PingOne console would do)."""
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as c:
        token = await c.post(
            f"/{ENV}/as/token",
            data={"grant_type": "client_credentials"},
            auth=("sandbox-client", "sandbox-secret"),
        )
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        return await c.request(method, f"/v1/environments/{ENV}/{path}", json=body, headers=headers)

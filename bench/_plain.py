"""The baseline of the PingOne benchmarks: a plain httpx client of the in-process sandbox."""

from __future__ import annotations

import httpx

from connectors.pingone.sandbox import Sandbox


async def plain_client(sandbox: Sandbox, env_id: str) -> httpx.AsyncClient:
    """One client with its token and the headers the engine's client sends, kept for every
    call (as the engine keeps its connections)."""
    client = httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url)
    token = await client.post(
        f"/{env_id}/as/token",
        data={"grant_type": "client_credentials"},
        auth=("sandbox-client", "sandbox-secret"),
    )
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    client.headers["Accept"] = "application/json"
    return client

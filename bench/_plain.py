"""The baseline of the PingOne benchmarks: a plain httpx client of the in-process sandbox."""

from __future__ import annotations

import statistics

import httpx
from flowengine_connectors.pingone_sandbox import Sandbox


def ratios(engine_times: list[float], plain_times: list[float]) -> tuple[float, float]:
    """(ratio of the medians, median of the paired ratios) of interleaved engine/plain samples.

    The machine is shared: the median of each interleaved pair's ratio resists load drift."""
    medians = statistics.median(engine_times) / statistics.median(plain_times)
    paired = statistics.median(e / p for e, p in zip(engine_times, plain_times, strict=True))
    return medians, paired


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

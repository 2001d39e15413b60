"""Helpers shared by the sandbox's HTTP tests."""

from __future__ import annotations

from typing import Any

import httpx

ENV = "11111111-2222-3333-4444-555555555555"
API = f"/v1/environments/{ENV}"


async def token_for(client: httpx.AsyncClient, env: str = ENV) -> str:
    response = await client.post(
        f"/{env}/as/token",
        data={"grant_type": "client_credentials"},
        auth=("sandbox-client", "sandbox-secret"),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def make_user(client: httpx.AsyncClient, username: str = "alice", **extra: Any) -> str:
    response = await client.post(f"{API}/users", json={"username": username, **extra})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def make_tx(client: httpx.AsyncClient, user_id: str, **body: Any) -> dict[str, Any]:
    response = await client.post(f"{API}/users/{user_id}/verifyTransactions", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def assert_envelope(response: httpx.Response, status: int, code: str, target: str | None = None):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["id"] and body["message"]
    assert response.headers["correlation-id"] == body["id"]
    if target is not None:
        assert [d["target"] for d in body["details"]] == [target]
    return body

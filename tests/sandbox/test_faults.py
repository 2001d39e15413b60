"""Fault injection: statuses, latency, dropped connections, early token expiry, admin endpoint."""

from __future__ import annotations

import httpx
import pytest
from flowengine_connectors.pingone_sandbox import Sandbox

# A test of the fault rules themselves (faults.py, private).
from flowengine_connectors.pingone_sandbox.faults import Faults
from sandbox_support import API, ENV, assert_envelope, token_for

from flowengine import VirtualClock


async def test_429_with_retry_after_for_next_n_calls(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.faults.add(
        {
            "action": "status",
            "status": 429,
            "retry_after": 7,
            "times": 2,
            "method": "GET",
            "path": "*/users",
        }
    )
    for _ in range(2):
        response = await client.get(f"{API}/users")
        body = assert_envelope(response, 429, "REQUEST_LIMITED")
        assert response.headers["retry-after"] == "7"
        assert body["details"][0]["innerError"]["retryAfter"] == 7
    assert (await client.get(f"{API}/users")).status_code == 200
    assert sandbox.faults.rules == []


@pytest.mark.parametrize(
    ("status", "code"), [(500, "UNEXPECTED_ERROR"), (503, "SERVICE_UNAVAILABLE")]
)
async def test_server_errors(
    client: httpx.AsyncClient, sandbox: Sandbox, status: int, code: str
) -> None:
    sandbox.faults.add({"action": "status", "status": status})
    assert_envelope(await client.get(f"{API}/users"), status, code)
    assert (await client.get(f"{API}/users")).status_code == 200


async def test_rules_match_env_method_and_path(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults.add({"action": "status", "status": 500, "env": "someone-else"})
    sandbox.faults.add({"action": "status", "status": 500, "method": "POST"})
    assert (await client.get(f"{API}/users")).status_code == 200
    assert len(sandbox.faults.rules) == 2
    assert (await client.post(f"{API}/users", json={"username": "x"})).status_code == 500


async def test_latency_waits_on_the_sandbox_clock(
    client: httpx.AsyncClient, sandbox: Sandbox, clock: VirtualClock
) -> None:
    sandbox.faults.add({"action": "latency", "seconds": 2.5})
    before = clock.now()
    assert (await client.get(f"{API}/users")).status_code == 200
    assert clock.now() - before == pytest.approx(2.5)


async def test_drop_is_a_transport_error(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults.add({"action": "drop"})
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get(f"{API}/users")
    assert (await client.get(f"{API}/users")).status_code == 200


async def test_expire_tokens_early(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults.add({"action": "expire_tokens", "env": ENV})
    body = assert_envelope(await client.get(f"{API}/users"), 401, "ACCESS_FAILED")
    assert "expired" in body["message"]
    client.headers["Authorization"] = f"Bearer {await token_for(client)}"
    assert (await client.get(f"{API}/users")).status_code == 200


async def test_token_endpoint_can_be_limited(anon: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults.add({"action": "status", "status": 429, "path": "/*/as/token"})
    response = await anon.post(
        f"/{ENV}/as/token",
        data={"grant_type": "client_credentials"},
        auth=("sandbox-client", "sandbox-secret"),
    )
    assert response.status_code == 429 and response.headers["retry-after"] == "1"


def test_rules_are_validated() -> None:
    with pytest.raises(ValueError, match="action must be one of"):
        Faults([{"action": "explode"}])
    with pytest.raises(ValueError, match=r"faults\[0\]: status"):
        Faults([{"action": "status", "status": 200}])
    with pytest.raises(ValueError, match="unknown field"):
        Faults([{"action": "drop", "count": 3}])


async def test_config_rules_and_admin_endpoint(clock: VirtualClock) -> None:
    config = {"admin": True, "faults": [{"action": "status", "status": 503, "path": "*/users"}]}
    sandbox = Sandbox(clock=clock, config=config)
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as c:
        c.headers["Authorization"] = f"Bearer {await token_for(c)}"
        assert (await c.get(f"{API}/users")).status_code == 503
        added = await c.post("/admin/faults", json={"action": "status", "status": 500})
        assert added.status_code == 201 and added.json()["status"] == 500
        assert len((await c.get("/admin/faults")).json()["faults"]) == 1
        bad = await c.post("/admin/faults", json={"action": "nope"})
        assert_envelope(bad, 400, "INVALID_DATA", "fault")
        assert (await c.delete("/admin/faults")).status_code == 204
        assert (await c.get(f"{API}/users")).status_code == 200
        outbox = await c.get("/admin/notifications")
        assert outbox.status_code == 200 and outbox.json() == {"notifications": []}
        moved = await c.post("/admin/clock", json={"seconds": 3600})
        assert moved.json()["now"].startswith("2026-01-01T01:00")


async def test_admin_is_off_by_default(anon: httpx.AsyncClient) -> None:
    assert (await anon.post("/admin/faults", json={"action": "drop"})).status_code == 404


async def test_rate_limit_per_environment_and_second(clock: VirtualClock) -> None:
    sandbox = Sandbox(clock=clock, config={"rate_limit": 3})
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as c:
        c.headers["Authorization"] = f"Bearer {await token_for(c)}"  # the token call counts
        statuses = [(await c.get(f"{API}/users")).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        limited = await c.get(f"{API}/users")
        assert_envelope(limited, 429, "REQUEST_LIMITED")
        assert limited.headers["retry-after"] == "1"
        clock.advance(1)
        assert (await c.get(f"{API}/users")).status_code == 200

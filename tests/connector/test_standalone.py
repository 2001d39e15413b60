"""Connections by `api_url` to a sandbox served on 127.0.0.1, and to a port nobody listens on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flowengine_connectors.pingone_sandbox import Sandbox, ServerThread, free_port
from p1_engine import SANDBOX_SETTINGS, run_capability

from flowengine import Engine, Registry, VirtualClock, load_registry


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    sandbox = Sandbox()
    with ServerThread(sandbox) as url:
        yield url
    sandbox.close()


async def test_api_url_reaches_a_served_sandbox(
    served: str, registry: Registry, clock: VirtualClock
) -> None:
    settings = {**SANDBOX_SETTINGS, "api_url": f"{served}/v1"}
    async with Engine(registry, clock=clock, environ={}) as engine:
        run = await run_capability(
            engine, registry, "pingone", "createUser", {"username": "served-user"}, settings
        )
        assert run.status == "completed", run.error
        user_id = run.result["user"]["id"]
        run = await run_capability(
            engine,
            registry,
            "pingone_verify",
            "readVerifyTransactions",
            {"userId": user_id},
            settings,
        )
        assert run.status == "completed", run.error
        assert run.result["transactions"]["size"] == 0
        # ...and that sandbox is not the embedded one: the user does not exist there.
        embedded = await run_capability(
            engine, registry, "pingone", "readUser", {"userId": user_id}
        )
        assert embedded.status == "failed"


async def test_unreachable_pingone_is_a_network_error(
    registry: Registry, clock: VirtualClock
) -> None:
    settings = {**SANDBOX_SETTINGS, "api_url": f"http://127.0.0.1:{free_port()}/v1"}
    async with Engine(registry, clock=clock, environ={}) as engine:
        start = clock.now()
        run = await run_capability(
            engine, registry, "pingone", "readUser", {"userId": "u"}, settings
        )
    assert run.status == "failed" and run.error is not None
    assert run.error["code"] == "NETWORK_ERROR"
    assert "could not be reached" in run.error["message"] and "127.0.0.1" in run.error["message"]
    assert "ConnectError (All connection attempts failed)" in run.error["message"]
    assert "check the connection's region or api_url" in run.error["message"]
    assert clock.now() - start >= 0.5 + 1 + 2  # three backoffs before giving up

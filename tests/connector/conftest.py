"""Fixtures for the PingOne client and connector tests.

`client` is a PingOneClient on a scripted PingOne (httpx.MockTransport); `sandbox` is a fresh
sandbox on the test's virtual clock, made the embedded one with `use_sandbox`, so connections
with region `sandbox` and the answer actions reach it; `engine` runs flows against it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from flowengine_connectors.pingone.client import PingOneClient
from flowengine_connectors.pingone_sandbox import Sandbox, use_sandbox
from p1_scripted import ScriptedPingOne, settings

from flowengine import Engine, Registry, VirtualClock, load_registry


@pytest.fixture
def pingone() -> ScriptedPingOne:
    return ScriptedPingOne()


@pytest.fixture
async def client(pingone: ScriptedPingOne, clock: VirtualClock) -> Any:
    c = PingOneClient(settings(), transport=httpx.MockTransport(pingone), clock=clock)
    try:
        yield c
    finally:
        await c.aclose()


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


@pytest.fixture
def sandbox(clock: VirtualClock) -> Iterator[Sandbox]:
    # Connections whose region is `sandbox` reach this sandbox instead of the process's one.
    with use_sandbox(Sandbox(clock=clock)) as box:
        yield box


@pytest.fixture
async def engine(
    registry: Registry, clock: VirtualClock, sandbox: Sandbox
) -> AsyncIterator[Engine]:
    async with Engine(registry, clock=clock, environ={}) as e:
        yield e

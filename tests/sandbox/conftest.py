"""Fixtures for the sandbox's HTTP tests: a sandbox on a virtual clock and a logged-in client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from flowengine_connectors.pingone_sandbox import Sandbox
from sandbox_support import token_for

from flowengine import VirtualClock


@pytest.fixture
def sandbox(clock: VirtualClock) -> Sandbox:
    return Sandbox(clock=clock)


@pytest.fixture
async def anon(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as c:
        yield c


@pytest.fixture
async def client(anon: httpx.AsyncClient) -> httpx.AsyncClient:
    anon.headers["Authorization"] = f"Bearer {await token_for(anon)}"
    return anon

"""Fixtures for the PingOne client and connector tests."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from p1_scripted import ScriptedPingOne, settings

from connectors.pingone.client import PingOneClient
from flowengine import VirtualClock


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

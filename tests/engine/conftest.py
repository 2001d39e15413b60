"""Fixtures for the runtime tests: the `t` test connector's registry and an engine over it.

Test modules with a registry of their own (the loader's, the plugins') define `registry`
themselves, which takes precedence over this one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from runtime_support import make_registry

from flowengine import Engine, Registry, VirtualClock


@pytest.fixture
def registry() -> Registry:
    """A registry holding only the `t` connector (runtime_support)."""
    return make_registry()


@pytest.fixture
async def engine(registry: Registry, clock: VirtualClock) -> AsyncIterator[Engine]:
    """An engine on the virtual clock with an empty environment, closed after the test."""
    async with Engine(registry, clock=clock, environ={}) as eng:
        yield eng

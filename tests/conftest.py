"""Shared fixtures. Area fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import pytest

from flowengine import VirtualClock


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()

"""Shared fixtures. Area fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import os

import pytest

from flowengine import VirtualClock

# The suite sees the plugins it names, whatever else is installed beside flowengine (a
# developer's own plugin, say): the built-ins, and those a test registers. Tests of loading
# installed plugins set the variable themselves; subprocesses inherit it.
os.environ["FLOWENGINE_LOAD_PLUGINS"] = ""


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()

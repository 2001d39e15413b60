"""PingOne: the shared API client and the `pingone` users connector.

The client (`PingOneClient`) lives in `client.py`; `pingone_verify` uses it too. The embedded
sandbox it can target (region `sandbox`) is its own plugin, `flowengine_connectors.pingone_sandbox`.
"""

from __future__ import annotations

from typing import Any

from flowengine_connectors.pingone._base import client_of, new_connector
from flowengine_connectors.pingone._errors import PingOneError
from flowengine_connectors.pingone._paging import collect, embedded_items, filter_string
from flowengine_connectors.pingone._users import connector
from flowengine_connectors.pingone.client import PingOneClient, PingOneResponse, PingOneSettings

from flowengine import hookimpl

__all__ = [
    "PingOneClient",
    "PingOneError",
    "PingOneResponse",
    "PingOneSettings",
    "client_of",
    "collect",
    "connector",
    "embedded_items",
    "filter_string",
    "new_connector",
]


@hookimpl
def register_connectors(register: Any) -> None:
    """Register the `pingone` users connector."""
    register(connector)

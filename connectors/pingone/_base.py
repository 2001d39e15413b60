"""What the `pingone` and `pingone_verify` connectors share: settings, the client, personal data."""

from __future__ import annotations

import dataclasses
from typing import Any

from connectors.pingone.client import PingOneClient, close_client, open_client, tag_calls
from flowengine import CallContext, Connector, PingOneError, PluginError, load_schema

__all__ = ["client_of", "finish_connector", "new_connector"]

PERSONAL_DATA_KEY = "x-personal-data"


def new_connector(name: str, title: str, description: str) -> Connector:
    """A connector whose connections each get one PingOneClient."""
    return Connector(
        name=name,
        title=title,
        description=description,
        open=open_client,
        close=close_client,
        secret_settings=("client_secret",),
    )


def finish_connector(connector: Connector) -> Connector:
    """At plugin load: read the settings schema and each capability's personal data paths."""
    connector.settings_schema = _load(connector.name, "settings.json")
    for name, cap in list(connector.capabilities.items()):
        paths = [*cap.personal_data]
        for direction in ("input", "output"):
            schema = _load(connector.name, f"{name}.{direction}.json")
            paths += [p for p in schema.get(PERSONAL_DATA_KEY, []) if p not in paths]
        connector.capabilities[name] = dataclasses.replace(cap, personal_data=tuple(paths))
    return connector


def _load(connector: str, filename: str) -> dict[str, Any]:
    try:
        return load_schema(f"{connector}/{filename}")
    except FileNotFoundError as e:
        raise PluginError(
            f"schema file schemas/{connector}/{filename} is missing", plugin=connector
        ) from e
    except ValueError as e:
        raise PluginError(
            f"schemas/{connector}/{filename} is not JSON: {e}", plugin=connector
        ) from e


def client_of(ctx: CallContext) -> PingOneClient:
    """The connection's client, on the run's clock, tagging its calls with the run and node."""
    client = ctx.connection
    if not isinstance(client, PingOneClient):
        raise PingOneError(
            f"node {ctx.node_id!r} has no PingOne connection (got {type(client).__name__}); "
            "the connection must use the pingone or pingone_verify connector",
            code="NO_CONNECTION",
        )
    client.use_clock(ctx.clock)
    tag_calls(ctx.run_id, ctx.node_id, ctx.visit)
    return client

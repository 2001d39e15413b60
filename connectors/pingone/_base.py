"""What the `pingone` and `pingone_verify` connectors share: settings and the client.

Their schemas' `x-personal-data` lists are read by the registry with the schemas."""

from __future__ import annotations

from pathlib import Path

from flowengine_connectors.pingone._errors import PingOneError
from flowengine_connectors.pingone.client import PingOneClient, close_client, open_client, tag_calls

from flowengine import CallContext, Connector, load_schema

__all__ = ["client_of", "new_connector"]


def new_connector(name: str, title: str, description: str, schema_dir: Path) -> Connector:
    """A connector whose connections each get one PingOneClient; its schemas in `schema_dir`."""
    return Connector(
        name=name,
        title=title,
        description=description,
        open=open_client,
        close=close_client,
        settings_schema=load_schema(f"{name}/settings.json", schema_dir),
        schema_dir=schema_dir,
        secret_settings=("client_secret",),
    )


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

"""The PingOne connectors' error: a `flowengine.ConnectorError`, so a node routes it as `error`."""

from __future__ import annotations

from flowengine import ConnectorError

__all__ = ["PingOneError"]


class PingOneError(ConnectorError):
    """PingOne answered with an error envelope, or could not be reached."""

"""The hooks a flowengine plugin can implement. Each spec is a one-line contract."""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("flowengine")
"""Marks the hook specifications below (for flowengine itself)."""
hookimpl = pluggy.HookimplMarker("flowengine")
"""Marker for plugins' hook implementations: `@hookimpl def register_connectors(register)`."""


@hookspec
def register_connectors(register: Any) -> None:
    """Call register(connector) for each flowengine.Connector this plugin provides."""


@hookspec
def register_answer_actions(register: Any) -> None:
    """Call register(name, action) per answers-file action: (interaction, args, env) -> response."""


@hookspec
def register_commands(cli: Any) -> None:
    """Call cli.add_command(command) for each click command this plugin adds to `flowengine`."""


@hookspec
def register_routes(flows: Any, register: Any) -> None:
    """Call register(prefixes, asgi_app, origin=None) per web app to serve beside `flows`."""

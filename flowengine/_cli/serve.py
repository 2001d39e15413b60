"""`flowengine serve`: the flow API server (pi.flow and the plain JSON API) on uvicorn."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Sequence
from typing import Any

import click

from flowengine._cli.common import fail, open_store_at, registry, store_option

__all__ = ["serve"]


def build_server(flows: Sequence[str], store: str, config_file: str | None) -> tuple[Any, Any]:
    """(the FlowServer, its config): flows loaded and checked, config read; exit 2 on errors."""
    from flowengine._serving import install_hint, missing_modules

    missing = missing_modules()
    if missing:
        fail(f"flowengine serve needs {', '.join(missing)}: {install_hint()}")
    from flowengine._reading.marked_yaml import read_file_value
    from flowengine._serving.app import FlowServer, plugin_web_apps
    from flowengine._serving.config import (
        ConfigError,
        check_against_flows,
        dev_config,
        parse_config,
    )
    from flowengine._serving.flows import FlowsRefused, load_served_flows

    plugins = registry()
    try:
        served = load_served_flows(list(flows) or ["flows"], plugins)
    except FlowsRefused as e:
        for d in e.diagnostics:
            click.echo(str(d), err=True)
        fail(str(e))
    if config_file:
        try:
            config = parse_config(read_file_value(config_file, "the serve config"), config_file)
            check_against_flows(config, list(served))
        except (ValueError, ConfigError) as e:
            fail(str(e))
        except OSError as e:
            fail(f"cannot read the serve config {config_file}: {e.strerror}")
    else:
        config = dev_config()
    from flowengine._running.engine import Engine

    opened = open_store_at(store)
    server = FlowServer(
        served,
        config,
        opened,
        engine=Engine(plugins, store=opened),
        web_apps=plugin_web_apps(served),
    )
    return server, config


def _check_port(host: str, port: int) -> None:
    """Exit 2 with the fix when the address cannot be listened on (uvicorn would exit 1)."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as e:
        fail(
            f"cannot listen on {host}:{port}: {e.strerror or e}; another program may hold the "
            "port: stop it or choose another --port"
        )


@click.command()
@click.argument("flows", nargs=-1, type=click.Path())
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8800, show_default=True, type=int, help="TCP port.")
@store_option
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="YAML/JSON: environment, clients (redirect URIs, origins, flows), limits.",
)
def serve(flows: Sequence[str], host: str, port: int, store: str, config_file: str | None) -> None:
    """Serve flows over HTTP: DaVinci's pi.flow protocol and a plain JSON API.

    FLOWS are flow files or folders (default: flows/); every flow is checked at start.
    """
    server, config = build_server(flows, store, config_file)
    _check_port(host, port)
    import uvicorn

    base = f"http://{host}:{port}"
    env = config.environment
    ids = ", ".join(sorted(server.service.flows))
    click.echo(f"flowengine serve on {base}: flows {ids}; store {store}")
    click.echo(f"  pi.flow discovery  {base}/{env}/as/.well-known/openid-configuration")
    click.echo(f"  plain JSON API     {base}/api/runs  (OpenAPI: {base}/api/openapi.json)")
    for web in server.web_apps:
        click.echo(f"  also serving       {', '.join(web.prefixes)} (a plugin's web app)")
    if config.development:
        click.secho(
            "  DEVELOPMENT DEFAULTS (no --config): client 'flowengine-dev' may start every flow "
            "(acr_values=<flow id>) and redirect to 127.0.0.1 / localhost on any port",
            fg="yellow",
            bold=True,
        )
    # uvicorn finishes in-flight requests on SIGINT / SIGTERM, then raises the signal again:
    # after a graceful stop the command ends with exit code 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(
            uvicorn.Config(server.app, host=host, port=port, log_level="info", lifespan="on")
        ).run()
    click.echo("flowengine serve stopped")

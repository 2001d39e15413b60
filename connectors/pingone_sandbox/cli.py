"""`flowengine sandbox ...`: serve the sandbox, draw a persona's test documents."""

from __future__ import annotations

from pathlib import Path

import click

from .extra import require_extra

__all__ = ["sandbox"]


@click.group("sandbox")
def sandbox() -> None:
    """The PingOne sandbox (a local emulator of PingOne auth, users and Verify)."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8799, show_default=True, type=int, help="TCP port.")
@click.option(
    "--data",
    "data",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite file that keeps the state across restarts (default: in memory).",
)
@click.option(
    "--config",
    "config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="YAML/JSON config: environments, clients, faults, admin.",
)
def serve_command(host: str, port: int, data: Path | None, config: Path | None) -> None:
    """Serve the sandbox over HTTP (uvicorn)."""
    require_extra()
    from .config import load_config
    from .server import serve

    try:
        loaded = load_config(config)
    except (ValueError, OSError) as exc:
        raise click.BadParameter(str(exc), param_hint="--config") from None
    served = (
        "any environment, client sandbox-client / sandbox-secret"
        if loaded.environments is None
        else f"environments {', '.join(sorted(loaded.environments))} (clients from --config)"
    )
    _check_port(host, port)
    click.echo(f"PingOne sandbox on http://{host}:{port}: {served}")
    serve(host=host, port=port, data_path=data, config=config)


def _check_port(host: str, port: int) -> None:
    """Fail with the fix when the address cannot be listened on (uvicorn would exit 3)."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            probe.bind(address)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; another program (a sandbox "
            "already serving?) may hold the port: stop it or choose another --port"
        ) from None


def _check_persona(persona: str) -> None:
    """A usage error naming the known personas unless `persona` is one of them."""
    from .verification.personas import PERSONAS

    if persona not in PERSONAS:
        known = ", ".join(sorted(PERSONAS))
        raise click.BadParameter(
            f"unknown persona {persona!r}; known: {known}", param_hint="--persona"
        )


@sandbox.command("make-documents")
@click.option("--persona", required=True, help="Persona name, e.g. success, expired_id.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the documents to.",
)
def make_documents_command(persona: str, out: Path) -> None:
    """Draw a persona's test documents (JPEGs with their machine-readable text inside)."""
    require_extra()
    from .verification import personas

    _check_persona(persona)
    for path in personas.make_documents(persona, out):
        click.echo(str(path))


@sandbox.command("phone")
@click.argument("url")
@click.option("--persona", required=True, help="Persona name, e.g. success, expired_id.")
def phone_command(url: str, persona: str) -> None:
    """Play the user's phone: open a QR code's link and submit a persona's documents.

    URL is the web verification link a QR code carries (the QR_CODE collector's fallbackText
    or the plain API's pending data), on a served sandbox or a `flowengine serve` that
    serves the embedded one.
    """
    require_extra()
    import asyncio

    import httpx

    from .phone import Phone, PhoneError

    _check_persona(persona)
    try:
        state = asyncio.run(Phone().persona(url, persona))
    except ValueError as exc:  # not a web verification link
        raise click.BadParameter(str(exc), param_hint="URL") from None
    except (PhoneError, httpx.HTTPError) as exc:
        raise click.ClickException(f"the phone could not submit the documents: {exc}") from None
    found = state.get("transactionStatus") if isinstance(state, dict) else None
    status = found.get("status") if isinstance(found, dict) else None
    click.echo(f"submitted {persona}'s documents" + (f": {status}" if status else ""))

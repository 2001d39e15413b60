"""The PingOne sandbox as a plugin: its CLI and the answer actions that play the user's phone.

This is the module the `pingone_sandbox` entry point names. It imports only flowengine and the
standard library; the sandbox itself (Starlette, Pillow, rapidfuzz, httpx) loads when an action
runs or a `flowengine sandbox` command is used.

* `phone` (args `persona`): the phone scans the QR code being shown and submits the persona's
  documents and selfie through the sandbox's `Phone` helper;
* `sandbox.advance` (args `seconds` / `minutes`): the embedded sandbox's clock moves forward;
* `documents` (args `persona`): fills an upload form with the persona's documents, for flows
  that submit them server side (a field named after a document type, `driver_license_front`,
  or labelled with it, gets the base64 JPEG or the barcode text).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flowengine import Interaction, RunError, SystemClock, VirtualClock, hookimpl

__all__ = [
    "advance_action",
    "documents_action",
    "phone_action",
    "register_answer_actions",
    "register_commands",
    "register_routes",
]


@hookimpl
def register_commands(cli: Any) -> None:
    """Add `flowengine sandbox ...` (serve the sandbox, draw a persona's documents)."""
    from .cli import sandbox

    cli.add_command(sandbox)


@hookimpl
def register_routes(flows: Any, register: Any) -> None:
    """Beside flows that use the embedded sandbox, serve its verification page and API.

    `flowengine serve` then shows its own origin in the QR codes' links in place of the
    in-process one, so a phone or a browser reaches the embedded sandbox through the server.
    """
    if not any(_uses_embedded(flow) for flow in flows.values()):
        return
    from .extra import require_extra

    require_extra()

    async def embedded(scope: Any, receive: Any, send: Any) -> None:
        from . import default_sandbox

        await default_sandbox().app(scope, receive, send)

    from .app import Sandbox
    from .phone import PHONE_PATH
    from .transactions import WEB_PATH

    register(("/verify-webapp", WEB_PATH, PHONE_PATH), embedded, origin=Sandbox.base_url)


def _uses_embedded(flow: Any) -> bool:
    """Whether a connection of the flow has region `sandbox` (its `${VAR:-default}` read)."""
    import os
    import re

    def expand(value: str) -> str:
        pattern = r"\$\{(\w+)(?::-([^}]*))?\}"
        return re.sub(pattern, lambda m: os.environ.get(m[1]) or (m[2] or ""), value)

    for connection in flow.connections.values():
        region = connection.settings.get("region")
        if isinstance(region, str) and expand(region).strip().lower() == "sandbox":
            api_url = connection.settings.get("api_url")
            if not (isinstance(api_url, str) and expand(api_url).strip()):
                return True
    return False


@hookimpl
def register_answer_actions(register: Any) -> None:
    """Register the answer actions that play the user's phone against the sandbox."""
    register("phone", phone_action)
    register("sandbox.advance", advance_action)
    register("documents", documents_action)


async def phone_action(interaction: Interaction, args: dict[str, Any], env: Any) -> dict[str, Any]:
    """Answer a QR screen: the persona's phone opens its URL and submits their documents."""
    import httpx

    from . import Phone, PhoneError, default_sandbox

    url = (interaction.data or {}).get("url")
    if interaction.kind != "qr" or not url:
        raise RunError(
            f"answer action 'phone' needs a QR code interaction with a url; node "
            f"{getattr(env, 'node_id', '?')!r} shows a {interaction.kind!r} interaction",
            run_id=getattr(getattr(env, "run", None), "id", None),
        )
    persona = args.get("persona")
    if not isinstance(persona, str) or not persona:
        raise RunError("answer action 'phone' needs `persona: <name>` (e.g. persona: alice)")
    # The embedded sandbox is reached in-process; a served sandbox over the network.
    sandbox = default_sandbox()
    embedded = urlsplit(url).hostname == urlsplit(sandbox.base_url).hostname
    phone = Phone(sandbox) if embedded else Phone()
    try:
        await phone.persona(url, persona)
    except (KeyError, ValueError) as e:  # an unknown persona, a URL that is no verification link
        raise RunError(f"answer action 'phone': {e.args[0] if e.args else e}") from e
    except (PhoneError, httpx.HTTPError) as e:  # refused by the sandbox, or it was not reachable
        raise RunError(
            f"answer action 'phone' at node {getattr(env, 'node_id', '?')!r}: {e}{_memory_hint(e)}",
            run_id=getattr(getattr(env, "run", None), "id", None),
        ) from e
    return {}


def _memory_hint(error: Exception) -> str:
    """Why an embedded sandbox may not know a transaction: it was made in another process."""
    from . import DATA_ENV, default_sandbox

    if "unknown transaction" not in str(error) or default_sandbox().data_path is not None:
        return ""
    return (
        f"; the embedded sandbox keeps its state in memory, per process: to resume a run in "
        f"another process, set {DATA_ENV}=FILE (a SQLite file) for both processes"
    )


def advance_action(interaction: Interaction, args: dict[str, Any], env: Any) -> dict[str, Any]:
    """Move the embedded sandbox's clock forward by `seconds` and/or `minutes`.

    The move is bounded (above 0, finite, at most 366 days: `timetravel.py`); anything else is
    refused with the reason and the clock is left as it was.
    """
    from . import default_sandbox
    from .timetravel import advance_error

    seconds: Any = 0.0
    for name, scale in (("seconds", 1), ("minutes", 60)):
        value = args.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise RunError(f"answer action 'sandbox.advance': `{name}:` must be a number")
        try:
            seconds += float(value) * scale
        except (ValueError, OverflowError) as e:
            raise RunError(f"answer action 'sandbox.advance': `{name}:` must be a number") from e
    clock = default_sandbox().clock
    if not isinstance(clock, SystemClock | VirtualClock):
        raise RunError(f"the embedded sandbox's clock ({type(clock).__name__}) cannot be advanced")
    if not args.get("seconds") and not args.get("minutes"):
        raise RunError("answer action 'sandbox.advance' needs `seconds:` or `minutes:` above 0")
    problem = advance_error(seconds, clock.now())
    if problem is not None:
        raise RunError(
            f"answer action 'sandbox.advance': the move (`seconds:` + 60 x `minutes:`) {problem}"
        )
    clock.advance(seconds)
    return {}


def _document_key(text: str) -> str:
    """A document type or field name compared loosely: "Passport Front" ~ "passport_front"."""
    key = "_".join(str(text).lower().replace("-", " ").split())
    return key.removesuffix("_front") if key.startswith("passport") else key


def documents_action(interaction: Interaction, args: dict[str, Any], env: Any) -> dict[str, Any]:
    """Answer an upload form with a sandbox persona's documents (base64 JPEGs, barcode text)."""
    import base64

    from . import documents_for

    persona = args.get("persona")
    if interaction.kind != "form" or not isinstance(persona, str) or not persona:
        raise RunError(
            "answer action 'documents' needs a form interaction and `persona: <name>`; node "
            f"{getattr(env, 'node_id', '?')!r} shows a {interaction.kind!r} interaction"
        )
    try:
        docs = {_document_key(t): v for t, v in documents_for(persona)}
    except KeyError as e:
        raise RunError(f"answer action 'documents': {e.args[0]}") from e
    response: dict[str, Any] = {}
    for field in (interaction.data or {}).get("fields") or []:
        for key in (_document_key(field.get("name", "")), _document_key(field.get("label", ""))):
            if key in docs:
                value = docs[key]
                response[field["name"]] = (
                    value if isinstance(value, str) else base64.b64encode(value).decode("ascii")
                )
                break
    if not response:
        fields = [f.get("name") for f in (interaction.data or {}).get("fields") or []]
        raise RunError(
            f"answer action 'documents': no field of node {getattr(env, 'node_id', '?')!r} "
            f"({', '.join(map(str, fields)) or 'none'}) is named or labelled after a document of "
            f"persona {persona!r}; name fields after {', '.join(sorted(docs))}"
        )
    return response

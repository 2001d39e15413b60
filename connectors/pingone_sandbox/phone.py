"""The user's phone, headless: opens a webVerificationUrl and uploads documents like the page."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from .box import Box

__all__ = ["PHONE_PATH", "ROUTES", "Phone", "PhoneError"]

PHONE_PATH = "/sandbox/phone"
"""The served sandbox's phone: POST {url, persona} plays it for a test in any language."""


class _Reachable(Protocol):
    """A sandbox reached in-process: what `Phone(sandbox)` needs of it."""

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport that calls the sandbox's app in-process."""
        ...


class PhoneError(RuntimeError):
    """The sandbox refused what the phone sent (an expired transaction, a bad document...)."""


USER_AGENT = "Mozilla/5.0 (Linux; Android 14; flowengine-sandbox-phone) Mobile"


def _link(url: str) -> tuple[str, str, str]:
    """(transaction id, API url, code) from a webVerificationUrl."""
    query = parse_qs(urlsplit(url).query)
    try:
        return query["txnid"][0], query["url"][0], query["code"][0]
    except KeyError as exc:
        raise ValueError(
            f"Not a web verification URL (missing {exc.args[0]!r}): expected "
            "…/verify-webapp/index.html?txnid=…&url=…&code=…"
        ) from None


class Phone:
    """Submits documents through the web verification endpoints.

    `Phone(sandbox)` talks to a Sandbox in-process, `Phone(transport)` through any httpx
    transport, `Phone()` over the network (a served sandbox).
    """

    def __init__(self, target: _Reachable | httpx.AsyncBaseTransport | None = None) -> None:
        if target is not None and not isinstance(target, httpx.AsyncBaseTransport):
            target = target.transport()
        self._transport = target

    async def submit(
        self, web_verification_url: str, documents: list[tuple[str, bytes | str]]
    ) -> dict[str, Any]:
        """Begin the verification and upload each (type, JPEG bytes or text); the final state."""
        tx_id, api, code = _link(web_verification_url)
        base = f"{api.rstrip('/')}/{tx_id}"
        headers = {"User-Agent": USER_AGENT}
        async with httpx.AsyncClient(transport=self._transport, headers=headers) as client:
            state = await self._post(client, f"{base}/sessions", {"code": code})
            for doc_type, data in documents:
                value = data if isinstance(data, str) else base64.b64encode(data).decode()
                body = {"code": code, "type": doc_type, "value": value}
                state = await self._post(client, f"{base}/documents", body)
        return state

    async def _post(self, client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> Any:
        response = await client.post(url, json=body)
        if response.status_code >= 400:
            raise PhoneError(
                f"The sandbox refused {url.rsplit('/', 1)[-1]}: {response.status_code} "
                f"{response.text[:500]}"
            )
        return response.json()

    async def persona(self, web_verification_url: str, persona: str) -> dict[str, Any]:
        """Submit the documents the verification rules generate for a persona."""
        from .verification.personas import documents_for

        return await self.submit(web_verification_url, documents_for(persona))


async def play(sandbox: Box, request: Request) -> Response:
    """POST /sandbox/phone {url, persona}: the persona's phone opens a verification link (a QR
    code's) and submits their documents, through this sandbox's own web verification routes;
    the page's final state. Anyone holding the link could do as much, so no token is asked."""
    from .errors import invalid_data
    from .http import json_body, json_response
    from .verification.personas import PERSONAS

    body = await json_body(request)
    url, persona = body.get("url"), body.get("persona")
    if not isinstance(url, str) or not url:
        raise invalid_data("url", "give the web verification link a QR code shows", "REQUIRED")
    if persona not in PERSONAS:
        known = ", ".join(sorted(PERSONAS))
        raise invalid_data("persona", f"must be one of the sandbox's personas: {known}")
    phone = Phone(httpx.ASGITransport(app=request.app))
    try:
        state = await phone.persona(url, persona)
    except ValueError as e:  # not a web verification link
        raise invalid_data("url", str(e)) from None
    except PhoneError as e:  # the sandbox refused what the phone sent
        raise invalid_data("url", str(e), "REFUSED") from None
    return json_response({"persona": persona, "state": state})


ROUTES = [(PHONE_PATH, play, ["POST"])]

"""What the sandbox refuses before it reads a request: bodies over the route's limit.

`BodyLimit` is the ASGI middleware around the routes. A `Content-Length` over the limit of the
route family is answered 413 at once, before the body is read, the token is checked or the
route runs; a body without a length (chunked) is counted as it is received and refused as soon
as it passes the limit. A client that goes away while its request is read or answered is one
log line, not an error with a traceback. The numbers are in docs/assumptions.md.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ApiError, error_response

__all__ = [
    "DOCUMENT_BODY_LIMIT",
    "JSON_BODY_LIMIT",
    "TOKEN_BODY_LIMIT",
    "BodyLimit",
    "BodyTooLarge",
    "body_limit",
]

DOCUMENT_BODY_LIMIT = 16 * 1024 * 1024
"""Bytes of a request to a documents route (base64 JPEGs): 16 MiB, a 12 MB photo in base64."""

JSON_BODY_LIMIT = 1024 * 1024
"""Bytes of any other API or page request (users, policies, transactions, matching): 1 MiB."""

TOKEN_BODY_LIMIT = 64 * 1024
"""Bytes of a token request (a short form): 64 KiB."""

log = logging.getLogger("flowengine_connectors.pingone_sandbox")


class BodyTooLarge(ApiError):
    """413 REQUEST_TOO_LARGE: the body is over the route's limit (PingOne's envelope)."""

    def __init__(self, limit: int) -> None:
        detail = {
            "code": "REQUEST_TOO_LARGE",
            "target": "body",
            "message": f"The request body must be at most {limit} bytes for this path; "
            "send a smaller body (smaller images for documents)",
        }
        super().__init__(
            413,
            "REQUEST_TOO_LARGE",
            f"The request could not be completed. The request body is over {limit} bytes.",
            [detail],
        )


def body_limit(path: str) -> int:
    """The body limit of a path's route family: documents, token, everything else."""
    if path.endswith("/as/token"):
        return TOKEN_BODY_LIMIT
    parts = path.rstrip("/").split("/")
    # .../verifyTransactions/{txId}/documents[/{docId}] and .../webVerifications/{txId}/documents
    if "documents" in parts[-2:]:
        return DOCUMENT_BODY_LIMIT
    return JSON_BODY_LIMIT


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


class BodyLimit:
    """ASGI middleware: 413 for bodies over the limit, one log line for a client gone away."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope.get("path", ""))
        length = _content_length(scope)
        if length is not None and length > limit:
            await error_response(BodyTooLarge(limit))(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as error:  # raised outside an endpoint's own error handling
            if not started:
                await error_response(error)(scope, receive, send)
        except ClientDisconnect:
            log.warning("sandbox: the client disconnected during %s", _request_line(scope))
        except asyncio.CancelledError:
            log.warning("sandbox: %s was cancelled (client gone)", _request_line(scope))
            raise


def _request_line(scope: Scope) -> str:
    """`POST /path` (never the query: it may hold a verification code)."""
    return f"{scope.get('method', '?')} {scope.get('path', '?')}"

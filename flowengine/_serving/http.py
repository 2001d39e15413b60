"""What both doors share over HTTP: bounded JSON bodies, JSON answers, CORS, origins."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flowengine._serving.config import ServeConfig
from flowengine._serving.service import Refused

__all__ = ["CORS", "origin_of", "read_body", "read_form", "read_json", "reply"]

ALLOWED_HEADERS = (
    "interactionId, interactionToken, x-requested-with, x-requested-platform, content-type, "
    "accept, accept-language, authorization"
)


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer that no cache keeps."""
    base = {"Cache-Control": "no-store"}
    return JSONResponse(body, status_code=status, headers=base | (headers or {}))


def origin_of(request: Request) -> str:
    """The scheme://host[:port] the client used: absolute links are built on it."""
    return f"{request.url.scheme}://{request.url.netloc}"


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 past `limit` bytes (announced or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Refused(400, "INVALID_REQUEST", "Content-Length is not a number")
        if int(declared) > limit:
            raise Refused(413, "BODY_TOO_LARGE", f"the body is over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, "BODY_TOO_LARGE", f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int, *, empty: Any = None) -> Any:
    """The JSON body (an object); 400 naming the problem when it is not one."""
    raw = await read_body(request, limit)
    if not raw.strip():
        if empty is not None:
            return empty
        raise Refused(400, "INVALID_REQUEST", "the body is empty; send a JSON object")
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise Refused(400, "INVALID_REQUEST", f"the body is not JSON: {e}") from None
    except RecursionError:
        raise Refused(400, "INVALID_REQUEST", "the body's JSON is nested too deeply") from None
    if not isinstance(value, dict):
        raise Refused(400, "INVALID_REQUEST", "the body must be a JSON object")
    return value


async def read_form(request: Request, limit: int) -> dict[str, str]:
    """An application/x-www-form-urlencoded body (any charset parameter) as a dict."""
    raw = await read_body(request, limit)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "invalid_request", "the form body is not UTF-8") from None
    pairs = parse_qsl(text, keep_blank_values=True)
    return dict(pairs)


class CORS:
    """Credentialed CORS for the configured clients' origins; preflights answered here."""

    def __init__(self, app: ASGIApp, config: ServeConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        allowed = origin is not None and self.config.allows_origin(origin)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            if not allowed:
                response: Response = reply(
                    {"code": "ORIGIN_NOT_ALLOWED", "message": f"origin {origin} is not allowed"},
                    403,
                )
            else:
                response = Response(status_code=204, headers=self._headers(origin or ""))
                response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
                response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"
            await response(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and allowed:
                extra = [(k.encode(), v.encode()) for k, v in self._headers(origin or "").items()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_cors)

    @staticmethod
    def _headers(origin: str) -> dict[str, str]:
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }

"""Route plumbing shared by the sandbox's modules: JSON bodies and responses, HAL, paging."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .errors import ApiError, invalid_data, invalid_request

__all__ = [
    "MAX_JSON_DEPTH",
    "ConnectionDropped",
    "base_url",
    "collection",
    "env_url",
    "json_body",
    "json_depth",
    "json_response",
    "media_type",
    "page",
    "query",
]

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects a JSON body may have (docs/assumptions.md)."""

DEFAULT_PAGE = 100
"""Items per page of a list when the request gives no `limit`."""


class ConnectionDropped(Exception):
    """Raised inside the app to cut the connection (the `drop` fault)."""


class _DroppedResponse(Response):
    """Starts a response, sends part of its body, then breaks the connection."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"_links"', "more_body": True})
        raise ConnectionDropped("the sandbox dropped the connection (fault injection)")


def base_url(request: Request) -> str:
    """Scheme and host the client used, so URLs in bodies work in-process and when served."""
    host = request.headers.get("host") or "sandbox.pingone.local"
    return f"{request.scope.get('scheme', 'http')}://{host}"


def media_type(request: Request) -> str:
    """The request's Content-Type without parameters, lower-cased ('' when absent)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def query(request: Request, name: str) -> str | None:
    """One query parameter; skips parsing when the URL has no query (the common case)."""
    if not request.scope.get("query_string"):
        return None
    return request.query_params.get(name)


def env_url(request: Request, env_id: str) -> str:
    """`<base>/v1/environments/<envId>`."""
    return f"{base_url(request)}/v1/environments/{env_id}"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response."""
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(content, status, headers, media_type="application/json")


def collection(
    href: str, name: str, items: list[dict[str, Any]], **embedded: list[dict[str, Any]]
) -> dict[str, Any]:
    """A HAL collection: `_links.self`, `_embedded.<name>` (plus extra arrays) and `size`."""
    body_embedded: dict[str, Any] = {name: items, **embedded}
    return {"_links": {"self": {"href": href}}, "_embedded": body_embedded, "size": len(items)}


def page(
    request: Request, name: str, found: list[Any], render: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    """One page of `found` as a HAL collection: `limit` items from `cursor`, then `next`."""
    limit, cursor = _limit(request), _cursor(request)
    body = collection(str(request.url), name, [render(x) for x in found[cursor : cursor + limit]])
    if cursor + limit < len(found):
        # HAL paging as PingOne does it: clients follow `_links.next.href` until it is absent.
        following = request.url.include_query_params(cursor=cursor + limit, limit=limit)
        body["_links"]["next"] = {"href": str(following)}
    return body


def _cursor(request: Request) -> int:
    raw = query(request, "cursor") or "0"
    if not raw.isdigit():
        raise invalid_data(
            "cursor", f"cursor must come from a `next` link, got {raw!r}", "INVALID_PARAMETER"
        )
    return int(raw)


def _limit(request: Request) -> int:
    raw = query(request, "limit")
    if raw is None:
        return DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise invalid_data(
            "limit", f"limit must be an integer from 1 to 1000, got {raw!r}", "INVALID_PARAMETER"
        )
    return int(raw)


async def json_body(request: Request, expected: str = "application/json") -> dict[str, Any]:
    """The request's JSON object; 415 for another content type, 400 for malformed JSON."""
    content_type = media_type(request)
    if content_type != expected:
        raise invalid_request(
            f"Unsupported Content-Type {content_type or '(none)'!r}; send {expected}", 415
        )
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except RecursionError:  # nested past the interpreter's limit: far past MAX_JSON_DEPTH
        raise _too_deep() from None
    except ValueError as exc:
        raise invalid_request(f"The request body is not valid JSON: {exc}") from None
    if json_depth(body) > MAX_JSON_DEPTH:
        raise _too_deep()
    if not isinstance(body, dict):
        raise invalid_request("The request body must be a JSON object")
    return body


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest in `value` (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return deepest


def _too_deep() -> ApiError:
    return invalid_request(
        f"The request body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels; "
        "send a flatter JSON object"
    )


def dropped_response() -> Response:
    """The response that breaks the connection mid-body."""
    return _DroppedResponse()

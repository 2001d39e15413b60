"""HAL collections across pages: follow `_links.next.href` as PingOne's SDKs do.

PingOne answers a list with one page and, when more items exist, a `_links.next.href` to the
following one (API reference §2). `collect` reads pages until it has `limit` items, the links
run out, or `max_pages` were read; the answer is one collection holding every item read.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flowengine_connectors.pingone._errors import PingOneError
from flowengine_connectors.pingone.client import PingOneClient, PingOneResponse

__all__ = ["MAX_PAGES", "collect", "embedded_items", "filter_string"]

MAX_PAGES = 50
"""Pages read at most for one list: a bound on the calls one node can make."""


async def collect(
    client: PingOneClient,
    path: str,
    name: str,
    *,
    params: Mapping[str, Any] | None = None,
    limit: int | None = None,
    max_pages: int = MAX_PAGES,
) -> PingOneResponse:
    """GET the collection at `path` and the pages after it; `_embedded.<name>` holds them all."""
    first = await client.get(path, params=params)
    if not isinstance(first.body, dict):
        return first
    items = list(embedded_items(first.body, name))
    following = _next(first.body)
    pages = 1
    while following and pages < max_pages and (limit is None or len(items) < limit):
        _check_same_origin(client, following, path)
        page = await client.get(following)
        items += embedded_items(page.body, name)
        following = _next(page.body)
        pages += 1
    return _merged(first, name, items, following if pages >= max_pages else None)


def embedded_items(body: Any, name: str) -> list[Any]:
    """The `_embedded.<name>` list of a HAL collection (empty when absent or malformed)."""
    embedded = body.get("_embedded") if isinstance(body, dict) else None
    found = embedded.get(name) if isinstance(embedded, dict) else None
    return found if isinstance(found, list) else []


def filter_string(value: Any) -> str:
    """`value` as a string literal of a PingOne (SCIM) filter: `"..."`, escaped."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _next(body: Any) -> str | None:
    links = body.get("_links") if isinstance(body, dict) else None
    link = links.get("next") if isinstance(links, dict) else None
    href = link.get("href") if isinstance(link, dict) else None
    return href if isinstance(href, str) and href else None


def _check_same_origin(client: PingOneClient, href: str, path: str) -> None:
    """The bearer token goes only to the API host: a next link elsewhere is refused."""
    origin = urlsplit(client.settings.api_base)
    target = urlsplit(href)
    if (target.scheme, target.netloc) != (origin.scheme, origin.netloc):
        raise PingOneError(
            f"PingOne's next-page link for {path} points at {target.scheme}://{target.netloc}, "
            f"not the API host {origin.scheme}://{origin.netloc}; it is not followed with the "
            "connection's token (check api_url)",
            code="INVALID_NEXT_LINK",
        )


def _merged(
    first: PingOneResponse, name: str, items: list[Any], unread: str | None
) -> PingOneResponse:
    """The first page's body with every item read; `next` stays only when pages were left."""
    body = copy.copy(first.body)
    links = {k: v for k, v in (body.get("_links") or {}).items() if k != "next"}
    if unread:
        links["next"] = {"href": unread}
    body["_links"] = links
    body["_embedded"] = {**(body.get("_embedded") or {}), name: items}
    body["size"] = len(items)
    return PingOneResponse(first.status_code, first.headers, body)

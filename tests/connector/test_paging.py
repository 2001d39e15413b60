"""Lists across pages: `_links.next` followed until the limit, the end, or the page bound."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from flowengine_connectors.pingone import PingOneError
from flowengine_connectors.pingone._paging import collect
from flowengine_connectors.pingone.client import PingOneClient
from flowengine_connectors.pingone_sandbox import Sandbox
from flowengine_connectors.pingone_verify import _policies, _transactions
from p1_scripted import ENV, ScriptedPingOne, context, json_response, settings

from flowengine import VirtualClock

API = "https://api.pingone.com/v1"
PATH = f"/environments/{ENV}/users/u1/verifyTransactions"


def page(ids: list[str], following: str | None = None) -> httpx.Response:
    links: dict[str, Any] = {"self": {"href": API + PATH}}
    if following:
        links["next"] = {"href": following}
    items = [{"id": i, "createdAt": f"2026-01-01T00:00:{i.zfill(2)}.000Z"} for i in ids]
    body = {"_links": links, "_embedded": {"verifyTransactions": items}, "size": len(items)}
    return json_response(200, body)


def next_href(n: int) -> str:
    return f"{API}{PATH}?cursor={n}"


async def test_every_page_is_read_and_merged(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    pingone.queue += [page(["1", "2"], next_href(2)), page(["3", "4"], next_href(4)), page(["5"])]
    response = await collect(client, PATH, "verifyTransactions")
    ids = [t["id"] for t in response.body["_embedded"]["verifyTransactions"]]
    assert ids == ["1", "2", "3", "4", "5"] and response.body["size"] == 5
    assert "next" not in response.body["_links"]
    assert [str(r.url) for r in pingone.requests] == [API + PATH, next_href(2), next_href(4)]


async def test_limit_stops_reading_pages(client: PingOneClient, pingone: ScriptedPingOne) -> None:
    pingone.queue += [page(["1"], next_href(1)), page(["2", "3"], next_href(3)), page(["4"])]
    response = await collect(client, PATH, "verifyTransactions", limit=2)
    assert len(pingone.requests) == 2
    assert [t["id"] for t in response.body["_embedded"]["verifyTransactions"]] == ["1", "2", "3"]


async def test_page_bound_keeps_the_next_link(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    pingone.queue += [page([str(n)], next_href(n + 1)) for n in range(10)]
    response = await collect(client, PATH, "verifyTransactions", max_pages=3)
    assert len(pingone.requests) == 3 and response.body["size"] == 3
    assert response.body["_links"]["next"] == {"href": next_href(3)}


async def test_next_link_to_another_host_is_not_followed(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    pingone.queue += [page(["1"], "https://evil.example/v1/steal")]
    with pytest.raises(PingOneError) as e:
        await collect(client, PATH, "verifyTransactions")
    assert e.value.code == "INVALID_NEXT_LINK" and "evil.example" in str(e.value)
    assert [r.url.host for r in pingone.requests] == ["api.pingone.com"]


async def test_read_transactions_follows_pages_until_the_limit(
    client: PingOneClient, pingone: ScriptedPingOne, clock: VirtualClock
) -> None:
    pingone.queue += [page(["1", "2"], next_href(2)), page(["3", "4"], next_href(4))]
    inputs = {"userId": "u1", "limit": 3}
    out = await _transactions.readVerifyTransactions(inputs, context(client, clock))
    ids = [t["id"] for t in out["transactions"]["_embedded"]["verifyTransactions"]]
    assert ids == ["4", "3", "2"]  # latest first, at most `limit`
    assert len(pingone.requests) == 2
    assert pingone.requests[0].url.params["limit"] == "3"


async def test_default_policy_found_on_a_later_page(clock: VirtualClock) -> None:
    sandbox = Sandbox(clock=clock)
    own = {**settings("sandbox"), "client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    async with PingOneClient(own, transport=sandbox.transport(), clock=clock) as client:
        path = client.env_path("verifyPolicies")
        for n in range(101):  # the sandbox's pages hold 100 policies
            clock.advance(1)
            last = await client.post(path, json={"name": f"policy-{n}"})
        await client.put(
            client.env_path("verifyPolicies", last.body["id"]),
            json={"name": "policy-100", "default": True},
        )
        first_page = await client.get(path)
        assert "next" in first_page.body["_links"]
        assert all(not p["default"] for p in first_page.body["_embedded"]["verifyPolicies"])
        found = await _policies.default_policy(client)
        assert found.body["id"] == last.body["id"]
        named = await _policies.find_policy(client, "policy-100", None)
        assert named is not None and named.body["id"] == last.body["id"]

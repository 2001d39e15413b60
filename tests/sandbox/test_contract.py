"""Contracts that hold for every route: bearer required, errors in PingOne's envelope."""

from __future__ import annotations

import re

import httpx
import pytest
from flowengine_connectors.pingone_sandbox import Sandbox
from sandbox_support import assert_envelope

from flowengine import VirtualClock


def _api_routes() -> list[tuple[str, str]]:
    sandbox = Sandbox(clock=VirtualClock())
    found = []
    for route in sandbox.app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/v1/environments/"):
            for method in sorted(getattr(route, "methods", None) or []):
                if method != "HEAD":
                    found.append((method, re.sub(r"\{(\w+)\}", r"x-\1", path)))
    return found


ROUTES = _api_routes()


def test_every_documented_area_has_routes() -> None:
    paths = {path for _, path in ROUTES}
    for fragment in ("/users", "/verifyPolicies", "/verifyTransactions", "/documents",
                     "/verifiedData", "/metaData", "/verifyStatus", "/identityRecordMatching",
                     "/appEvents"):  # fmt: skip
        assert any(fragment in path for path in paths), fragment
    assert len(ROUTES) >= 30


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_api_route_needs_a_bearer(
    anon: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await anon.request(method, path, json={})
    body = assert_envelope(response, 401, "ACCESS_FAILED")
    assert body["details"][0]["code"] == "INVALID_TOKEN"


async def test_unknown_paths_and_methods_use_the_envelope(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.get("/v1/nothing/here"), 404, "NOT_FOUND")
    assert_envelope(await client.patch("/v1/environments/e/verifyPolicies"), 405, "INVALID_REQUEST")

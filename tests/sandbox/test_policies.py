"""Verify policies: seeded default, CRUD, filter on name, validated ranges."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sandbox_support import API, assert_envelope
from shared_files import shared_file


def example() -> dict[str, Any]:
    """The reference's example policy-create request (the body PingOne's docs show)."""
    path = shared_file("reference/pingone-examples/verify-policy-create-request.json")
    return dict(json.loads(path.read_text()))


async def test_default_policy_is_seeded(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"{API}/verifyPolicies")).json()
    policies = body["_embedded"]["verifyPolicies"]
    assert body["size"] == 1 and policies[0]["default"] is True
    policy = policies[0]
    assert policy["governmentId"]["verify"] == "REQUIRED"
    assert policy["transaction"]["timeout"] == {"duration": 30, "timeUnit": "MINUTES"}


async def test_create_read_update_delete(client: httpx.AsyncClient) -> None:
    created = await client.post(f"{API}/verifyPolicies", json=example())
    assert created.status_code == 201, created.text
    policy = created.json()
    assert policy["liveness"] == {
        "threshold": "HIGH",
        "verify": "REQUIRED",
        "retry": {"attempts": 0},
    }
    assert policy["default"] is False
    url = f"{API}/verifyPolicies/{policy['id']}"
    assert (await client.get(url)).json()["name"] == "Example Verify Policy"
    changed = {**example(), "description": "changed", "default": True}
    updated = await client.put(url, json=changed)
    assert updated.status_code == 200 and updated.json()["description"] == "changed"
    defaults = [
        p
        for p in (await client.get(f"{API}/verifyPolicies")).json()["_embedded"]["verifyPolicies"]
        if p["default"]
    ]
    assert [p["id"] for p in defaults] == [policy["id"]]
    assert_envelope(await client.delete(url), 400, "INVALID_DATA", "default")


async def test_delete_and_missing(client: httpx.AsyncClient) -> None:
    policy = (await client.post(f"{API}/verifyPolicies", json={"name": "p"})).json()
    assert policy["governmentId"]["verify"] == "DISABLED"
    url = f"{API}/verifyPolicies/{policy['id']}"
    assert (await client.delete(url)).status_code == 204
    body = assert_envelope(await client.get(url), 404, "NOT_FOUND")
    assert body["message"] == "verifyPolicy could not be found"


async def test_filter_on_name(client: httpx.AsyncClient) -> None:
    for name in ("Gold", "Silver", "Golden"):
        await client.post(f"{API}/verifyPolicies", json={"name": name})
    found = await client.get(f"{API}/verifyPolicies", params={"filter": 'name sw "gold"'})
    assert sorted(p["name"] for p in found.json()["_embedded"]["verifyPolicies"]) == [
        "Gold",
        "Golden",
    ]
    bad = await client.get(f"{API}/verifyPolicies", params={"filter": 'description eq "x"'})
    assert_envelope(bad, 400, "INVALID_DATA", "filter")


@pytest.mark.parametrize(
    ("patch", "target"),
    [
        ({"name": ""}, "name"),
        ({"description": "x" * 1025}, "description"),
        ({"governmentId": {"verify": "MAYBE"}}, "governmentId.verify"),
        (
            {"governmentId": {"verify": "REQUIRED", "retry": {"attempts": 4}}},
            "governmentId.retry.attempts",
        ),
        ({"liveness": {"verify": "REQUIRED"}}, "liveness.threshold"),
        (
            {"facialComparison": {"verify": "REQUIRED", "threshold": "MAX"}},
            "facialComparison.threshold",
        ),
        (
            {"transaction": {"timeout": {"duration": 31, "timeUnit": "MINUTES"}}},
            "transaction.timeout.duration",
        ),
        (
            {"transaction": {"timeout": {"duration": 1801, "timeUnit": "SECONDS"}}},
            "transaction.timeout.duration",
        ),
        (
            {
                "transaction": {
                    "timeout": {"duration": 10, "timeUnit": "MINUTES"},
                    "dataCollection": {"timeout": {"duration": 20, "timeUnit": "MINUTES"}},
                }
            },
            "transaction.dataCollection.timeout",
        ),
        (
            {
                "email": {
                    "verify": "REQUIRED",
                    "otp": {"lifeTime": {"duration": 59, "timeUnit": "SECONDS"}},
                }
            },
            "email.otp.lifeTime.duration",
        ),
        (
            {
                "phone": {
                    "verify": "REQUIRED",
                    "otp": {"deliveries": {"cooldown": {"duration": 31, "timeUnit": "MINUTES"}}},
                }
            },
            "phone.otp.deliveries.cooldown.duration",
        ),
        (
            {"identityRecordMatching": {"given_name": {"threshold": "SOME"}}},
            "identityRecordMatching.given_name.threshold",
        ),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_ranges_are_validated(
    client: httpx.AsyncClient, patch: dict[str, Any], target: str
) -> None:
    body = {"name": "checked", **patch}
    assert_envelope(
        await client.post(f"{API}/verifyPolicies", json=body), 400, "INVALID_DATA", target
    )


async def test_duplicate_name(client: httpx.AsyncClient) -> None:
    await client.post(f"{API}/verifyPolicies", json={"name": "same"})
    again = await client.post(f"{API}/verifyPolicies", json={"name": "same"})
    assert_envelope(again, 400, "INVALID_DATA", "name")

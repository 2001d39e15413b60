"""Details of the sandbox's answers pinned down: error detail codes, settled transactions,
injected faults' headers, cascades and policy-driven expiry."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import httpx
import pytest
from flowengine_connectors.pingone_sandbox import Phone, Sandbox, documents_for, requirements_for

# The documents route module (private) defines the type names; the test spells them once.
from flowengine_connectors.pingone_sandbox.documents import REPLACE_BACKGROUND_TYPE
from sandbox_support import API, assert_envelope, make_tx, make_user

from flowengine import VirtualClock

_MEDIA = {"Content-Type": REPLACE_BACKGROUND_TYPE}


async def _selfie_url(client: httpx.AsyncClient, sandbox: Sandbox) -> str:
    user_id = await make_user(client)
    tx = await make_tx(client, user_id, requirements=requirements_for("success"))
    url = f"{API}/users/{user_id}/verifyTransactions/{tx['id']}"
    await Phone(sandbox).persona(tx["webVerificationUrl"], "success")
    items = (await client.get(f"{url}/verifiedData")).json()["_embedded"]["verifiedData"]
    selfie = next(i["id"] for i in items if i["type"] == "SELFIE")
    return f"{url}/verifiedData/{selfie}"


@pytest.mark.parametrize(
    ("body", "target", "code", "message"),
    [
        ({}, "backgroundColor", "REQUIRED_VALUE", "backgroundColor {red, green, blue} is required"),
        (
            {"backgroundColor": {"red": 0, "green": True, "blue": 0}},
            "backgroundColor.green",
            "OUT_OF_RANGE",
            "must be an integer from 0 to 255",
        ),
        (
            {"backgroundColor": {"red": 0, "green": 0, "blue": 0}, "aspectRatio": [3, 4]},
            "aspectRatio",
            "INVALID_VALUE",
            "aspectRatio must be {aspectWidth, aspectHeight}",
        ),
        (
            {
                "backgroundColor": {"red": 0, "green": 0, "blue": 0},
                "aspectRatio": {"aspectWidth": 3, "aspectHeight": 0},
            },
            "aspectRatio.aspectHeight",
            "OUT_OF_RANGE",
            "must be an integer from 1 to 1000",
        ),
    ],
)
async def test_background_replacement_error_details(
    client: httpx.AsyncClient, sandbox: Sandbox, body: dict, target: str, code: str, message: str
) -> None:
    url = await _selfie_url(client, sandbox)
    response = await client.post(url, content=json.dumps(body), headers=_MEDIA)
    detail = assert_envelope(response, 400, "INVALID_DATA", target)["details"][0]
    assert (detail["code"], detail["message"]) == (code, message)


async def test_settled_transactions_refuse_documents(
    client: httpx.AsyncClient, clock: VirtualClock
) -> None:
    user_id = await make_user(client)
    selfie = base64.b64encode(dict(documents_for("success"))["Selfie"]).decode()
    approved = await make_tx(client, user_id)
    url = f"{API}/users/{user_id}/verifyTransactions/{approved['id']}"
    manual = {"transactionStatus": {"status": "APPROVED_NO_REQUEST"}}
    assert (await client.put(url, json=manual)).status_code == 200
    refused = await client.post(f"{url}/documents", json={"type": "Selfie", "value": selfie})
    body = assert_envelope(refused, 400, "REQUEST_FAILED", "transactionStatus")
    assert body["details"][0]["message"] == "APPROVED_NO_REQUEST"
    assert "is APPROVED_NO_REQUEST;" in body["message"]

    open_tx = await make_tx(client, user_id)
    url = f"{API}/users/{user_id}/verifyTransactions/{open_tx['id']}"
    taken = await client.post(f"{url}/documents", json={"type": "Selfie", "value": selfie})
    assert taken.status_code == 201, taken.text
    clock.advance(31 * 60)
    late = await client.post(f"{url}/documents", json={"type": "Selfie", "value": selfie})
    assert assert_envelope(late, 400, "REQUEST_FAILED")["details"][0]["message"] == "FAIL"


@pytest.mark.parametrize(
    ("status", "code", "retry_after"),
    [
        (503, "SERVICE_UNAVAILABLE", "4"),
        (500, "UNEXPECTED_ERROR", None),
        (418, "REQUEST_FAILED", None),
    ],
)
async def test_injected_status_faults(
    client: httpx.AsyncClient, sandbox: Sandbox, status: int, code: str, retry_after: str | None
) -> None:
    sandbox.faults.add({"action": "status", "status": status, "retry_after": 4})
    response = await client.get(f"{API}/users")
    assert_envelope(response, status, code)
    assert response.headers.get("retry-after") == retry_after


async def test_unknown_method_envelope(client: httpx.AsyncClient) -> None:
    body = assert_envelope(await client.patch(f"{API}/users"), 405, "INVALID_REQUEST")
    assert body["message"] == "PATCH is not allowed on this path"


async def test_deleting_a_user_deletes_its_transactions_and_documents(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    user_id = await make_user(client)
    other_id = await make_user(client, "bob")
    tx = await make_tx(client, user_id)
    kept = await make_tx(client, other_id)
    selfie = base64.b64encode(dict(documents_for("success"))["Selfie"]).decode()
    url = f"{API}/users/{user_id}/verifyTransactions/{tx['id']}"
    doc = (await client.post(f"{url}/documents", json={"type": "Selfie", "value": selfie})).json()
    assert (await client.delete(f"{API}/users/{user_id}")).status_code == 204
    assert sandbox.store.get("tx", tx["id"]) is None
    assert sandbox.store.get("doc", doc["id"]) is None
    assert sandbox.store.get("tx", kept["id"]) is not None


async def test_expiry_follows_the_policy_timeout(client: httpx.AsyncClient) -> None:
    user_id = await make_user(client)
    default = await make_tx(client, user_id)
    policy = {
        "name": "short",
        "governmentId": {"verify": "REQUIRED"},
        "transaction": {"timeout": {"duration": 90, "timeUnit": "SECONDS"}},
    }
    policy_id = (await client.post(f"{API}/verifyPolicies", json=policy)).json()["id"]
    short = await make_tx(client, user_id, verifyPolicy={"id": policy_id})

    assert _seconds(default["expiresAt"]) - _seconds(default["createdAt"]) == 30 * 60
    assert _seconds(short["expiresAt"]) - _seconds(short["createdAt"]) == 90


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


async def test_expanded_policy_is_the_policy_without_links(client: httpx.AsyncClient) -> None:
    user_id = await make_user(client)
    tx = await make_tx(client, user_id)
    url = f"{API}/users/{user_id}/verifyTransactions/{tx['id']}"
    expanded = (await client.get(url, params={"expand": "verifyPolicy"})).json()
    policy = (await client.get(f"{API}/verifyPolicies/{tx['verifyPolicy']['id']}")).json()
    del policy["_links"]
    assert json.dumps(expanded["verifyPolicy"]) == json.dumps(policy)  # same keys, same order
    assert expanded["_links"]["self"]["href"].endswith(url)
    documents = (await client.get(f"{url}/documents")).json()
    assert documents["_links"]["self"]["href"].endswith(f"{url}/documents")

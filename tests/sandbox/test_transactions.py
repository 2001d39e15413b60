"""Verify transactions: create, list, read, expand, manual approval, delete, expiry timing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from flowengine_connectors.pingone_sandbox import Sandbox
from sandbox_support import API, assert_envelope, make_tx, make_user

from flowengine import VirtualClock


async def test_create_shape(client: httpx.AsyncClient) -> None:
    user_id = await make_user(client)
    tx = await make_tx(
        client,
        user_id,
        requirements={"given_name": {"value": "Alice"}, "birth_date": {"value": "1990-01-31"}},
        redirect={"url": "https://app.example.com/done", "message": "Back to the app"},
        sendNotification={"email": "alice@example.com"},
    )
    assert tx["transactionStatus"]["status"] == "REQUESTED"
    assert tx["transactionStatus"]["verificationStatus"] == {
        "GOVERNMENT_ID": "REQUIRED",
        "FACIAL_COMPARISON": "REQUIRED",
        "LIVENESS": "REQUIRED",
    }
    assert tx["createdAt"] == "2026-01-01T00:00:00.000Z"
    assert tx["expiresAt"] == "2026-01-01T00:30:00.000Z"
    assert len(tx["webVerificationCode"]) == 6 and tx["webVerificationCode"].isdigit()
    assert tx["qrUrl"] == (
        f"http://sandbox.pingone.local/v1/idValidations/webVerifications/{tx['id']}/qr"
    )
    link = urlsplit(tx["webVerificationUrl"])
    query = parse_qs(link.query)
    assert link.path == "/verify-webapp/index.html"
    assert query["txnid"] == [tx["id"]] and query["code"] == [tx["webVerificationCode"]]
    assert query["url"] == ["http://sandbox.pingone.local/v1/idValidations/webVerifications"]
    assert tx["requirements"]["given_name"] == {"value": "Alice"}
    assert tx["redirect"]["message"] == "Back to the app"
    assert tx["_links"]["user"]["href"].endswith(f"/users/{user_id}")


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"redirect": {"url": "http://app.example.com"}}, "redirect.url"),
        ({"redirect": {"message": "x"}}, "redirect.url"),
        ({"redirect": {"url": "https://a.example", "message": "x" * 257}}, "redirect.message"),
        ({"verifyPolicy": {"id": "no-such-policy"}}, "verifyPolicy.id"),
        ({"verifyPolicy": "Default Verify Policy"}, "verifyPolicy"),
        ({"requirements": {"shoe_size": {"value": "9"}}}, "requirements.shoe_size"),
        ({"requirements": {"given_name": "Alice"}}, "requirements.given_name"),
        ({"requirements": {"family_name": {"options": []}}}, "requirements.family_name.options"),
        ({"sendNotification": {"fax": "1"}}, "sendNotification.fax"),
        ({"callback": {"headers": {}}}, "callback.url"),
        ({"callback": "https://hooks.example"}, "callback.url"),
    ],
)
async def test_create_validation(client: httpx.AsyncClient, body: dict, target: str) -> None:
    user_id = await make_user(client)
    response = await client.post(f"{API}/users/{user_id}/verifyTransactions", json=body)
    assert_envelope(response, 400, "INVALID_DATA", target)


async def test_reference_selfie_required_without_government_id(client: httpx.AsyncClient) -> None:
    user_id = await make_user(client)
    policy = {"name": "face only", "facialComparison": {"verify": "REQUIRED", "threshold": "LOW"}}
    policy_id = (await client.post(f"{API}/verifyPolicies", json=policy)).json()["id"]
    response = await client.post(
        f"{API}/users/{user_id}/verifyTransactions", json={"verifyPolicy": {"id": policy_id}}
    )
    assert_envelope(response, 400, "INVALID_DATA", "requirements.referenceSelfie")


async def test_unknown_user(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/users/alice/verifyTransactions", json={})
    assert_envelope(response, 404, "NOT_FOUND")


async def test_list_latest_first_with_limit(client: httpx.AsyncClient, clock: VirtualClock) -> None:
    user_id = await make_user(client)
    ids = []
    for _ in range(3):
        ids.append((await make_tx(client, user_id))["id"])
        clock.advance(1)
    url = f"{API}/users/{user_id}/verifyTransactions"
    body = (await client.get(url)).json()
    assert [t["id"] for t in body["_embedded"]["verifyTransactions"]] == ids[::-1]
    assert body["size"] == 3
    limited = (await client.get(url, params={"limit": 2})).json()
    assert [t["id"] for t in limited["_embedded"]["verifyTransactions"]] == ids[:0:-1]
    # `limit` is the page size: the rest is one `_links.next` away.
    rest = (await client.get(limited["_links"]["next"]["href"])).json()
    assert [t["id"] for t in rest["_embedded"]["verifyTransactions"]] == ids[:1]
    assert "next" not in rest["_links"]
    bad = await client.get(url, params={"limit": "lots"})
    assert_envelope(bad, 400, "INVALID_DATA", "limit")


async def test_read_expand_and_delete(client: httpx.AsyncClient) -> None:
    user_id = await make_user(client)
    tx = await make_tx(client, user_id)
    url = f"{API}/users/{user_id}/verifyTransactions/{tx['id']}"
    plain = (await client.get(url)).json()
    assert set(plain["verifyPolicy"]) == {"id"}
    expanded = (await client.get(url, params={"expand": "verifyPolicy"})).json()
    assert expanded["verifyPolicy"]["name"] == "Default Verify Policy"
    assert_envelope(await client.get(url, params={"expand": "user"}), 400, "INVALID_DATA", "expand")
    assert (await client.delete(url)).status_code == 204
    assert_envelope(await client.get(url), 404, "NOT_FOUND")


async def test_expiry_fails_with_timed_out_marker(
    client: httpx.AsyncClient, clock: VirtualClock
) -> None:
    user_id = await make_user(client)
    tx = await make_tx(client, user_id)
    url = f"{API}/users/{user_id}/verifyTransactions/{tx['id']}"
    clock.advance(30 * 60 - 1)
    assert (await client.get(url)).json()["transactionStatus"]["status"] == "REQUESTED"
    clock.advance(1)
    status = (await client.get(url)).json()["transactionStatus"]
    assert status["status"] == "FAIL"
    assert set(status["verificationStatus"].values()) == {"TRANSACTION_TIMED_OUT"}
    assert "expired" in status["providerMessagesList"][0]


async def test_policy_timeout_sets_expires_at(client: httpx.AsyncClient) -> None:
    policy = {
        "name": "short",
        "governmentId": {"verify": "REQUIRED"},
        "transaction": {
            "timeout": {"duration": 300, "timeUnit": "SECONDS"},
            "dataCollection": {"timeout": {"duration": 2, "timeUnit": "MINUTES"}},
        },
    }
    policy_id = (await client.post(f"{API}/verifyPolicies", json=policy)).json()["id"]
    user_id = await make_user(client)
    tx = await make_tx(client, user_id, verifyPolicy={"id": policy_id})
    assert tx["expiresAt"] == "2026-01-01T00:05:00.000Z"
    assert tx["transactionStatus"]["verificationStatus"] == {"GOVERNMENT_ID": "REQUIRED"}


async def test_manual_approval_rules(client: httpx.AsyncClient, clock: VirtualClock) -> None:
    user_id = await make_user(client)
    tx = await make_tx(client, user_id)
    url = f"{API}/users/{user_id}/verifyTransactions/{tx['id']}"
    manual = {"transactionStatus": {"status": "APPROVED_MANUALLY"}}
    refused = await client.put(url, json=manual)
    body = assert_envelope(refused, 400, "INVALID_DATA", "transactionStatus.status")
    assert "REQUESTED" in body["details"][0]["message"]
    bogus = await client.put(url, json={"transactionStatus": {"status": "SUCCESS"}})
    assert_envelope(bogus, 400, "INVALID_DATA", "transactionStatus.status")

    clock.advance(31 * 60)
    approved = await client.put(url, json=manual)
    assert approved.status_code == 200
    assert approved.json()["transactionStatus"]["status"] == "APPROVED_MANUALLY"
    assert (await client.get(url)).json()["transactionStatus"]["status"] == "APPROVED_MANUALLY"


async def test_approved_no_request(client: httpx.AsyncClient) -> None:
    user_id = await make_user(client)
    tx = await make_tx(client, user_id)
    url = f"{API}/users/{user_id}/verifyTransactions/{tx['id']}"
    response = await client.put(url, json={"transactionStatus": {"status": "APPROVED_NO_REQUEST"}})
    assert response.json()["transactionStatus"]["status"] == "APPROVED_NO_REQUEST"


async def test_web_page_is_served(client: httpx.AsyncClient) -> None:
    user_id = await make_user(client)
    tx = await make_tx(client, user_id)
    page = await client.get(tx["webVerificationUrl"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Step 1: your ID document" in page.text and 'src="app.js"' in page.text
    script = await client.get("/verify-webapp/app.js")
    assert "/sessions" in script.text and "/documents" in script.text
    assert (await client.get("/verify-webapp/secret.py")).status_code == 404


async def test_web_state_needs_the_code(client: httpx.AsyncClient) -> None:
    user_id = await make_user(client)
    tx = await make_tx(client, user_id)
    base = f"/v1/idValidations/webVerifications/{tx['id']}"
    wrong = await client.get(base, params={"code": "000000x"})
    assert_envelope(wrong, 401, "ACCESS_FAILED")
    unknown = await client.get("/v1/idValidations/webVerifications/nope", params={"code": "1"})
    assert_envelope(unknown, 404, "NOT_FOUND")


async def test_app_events_record_the_lifecycle(client: httpx.AsyncClient) -> None:
    user_id = await make_user(client)
    tx = await make_tx(client, user_id)
    base = f"/v1/idValidations/webVerifications/{tx['id']}"
    begin = await client.post(f"{base}/sessions", json={"code": tx["webVerificationCode"]})
    assert begin.status_code == 200, begin.text
    url = f"{API}/users/{user_id}/verifyTransactions/{tx['id']}"
    events = (await client.get(f"{url}/appEvents")).json()
    assert [e["type"] for e in events["_embedded"]["appEvents"]] == [
        "TRANSACTION_CREATED",
        "VERIFICATION_STARTED",
    ]
    assert (await client.get(url)).json()["transactionStatus"]["status"] == "INITIATED"


async def test_send_notification_lands_in_the_outbox(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    user_id = await make_user(client)
    tx = await make_tx(
        client, user_id, sendNotification={"email": "a@example.com", "phone": "+15555550100"}
    )
    sent = sandbox.notifications()
    assert [(n["channel"], n["to"]) for n in sent] == [
        ("EMAIL", "a@example.com"),
        ("PHONE", "+15555550100"),
    ]
    assert all(n["link"] == tx["webVerificationUrl"] for n in sent)
    assert tx["webVerificationCode"] in sent[0]["message"]
    assert sandbox.notifications("another-env") == []

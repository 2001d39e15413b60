"""Documents, processing, verifiedData, metaData, retries and retention, through the HTTP API."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from flowengine_connectors.pingone_sandbox import Phone, Sandbox, documents_for, requirements_for

# The documents route module (private) defines the type names; the test spells them once.
from flowengine_connectors.pingone_sandbox.documents import PROCESS_TYPE
from sandbox_support import API, assert_envelope, make_tx, make_user

from flowengine import VirtualClock


def b64(data: bytes | str) -> str:
    return data if isinstance(data, str) else base64.b64encode(data).decode()


async def _tx(client: httpx.AsyncClient, persona: str = "success", **body: Any) -> tuple[str, dict]:
    user_id = await make_user(client, f"user-{persona}-{len(body)}")
    tx = await make_tx(client, user_id, requirements=requirements_for(persona), **body)
    return f"{API}/users/{user_id}/verifyTransactions/{tx['id']}", tx


async def _submit_all(client: httpx.AsyncClient, url: str, persona: str) -> None:
    for doc_type, data in documents_for(persona):
        response = await client.post(
            f"{url}/documents", json={"type": doc_type, "value": b64(data)}
        )
        assert response.status_code == 201, response.text


async def test_api_documents_lifecycle(client: httpx.AsyncClient, clock: VirtualClock) -> None:
    url, _ = await _tx(client)
    docs = dict(documents_for("success"))
    front = await client.post(
        f"{url}/documents",
        json={"type": "Driver License Front", "value": b64(docs["Driver License Front"])},
    )
    assert front.status_code == 201
    doc = front.json()
    assert doc["source"] == {"provider": "AUTHENTICATED_CLIENT"} and doc["status"] == "COLLECTED"
    assert doc["verifyTransaction"]["id"] in url
    assert (await client.get(url)).json()["transactionStatus"]["status"] == "IN_PROGRESS"

    one = await client.get(f"{url}/documents/{doc['id']}")
    assert one.json()["value"] == b64(docs["Driver License Front"])
    listed = (await client.get(f"{url}/documents")).json()
    assert listed["size"] == 1 and listed["_embedded"]["previousAttempts"] == []
    assert (await client.get(f"{url}/documents", params={"type": "Selfie"})).json()["size"] == 0

    selfie = b64(docs["Selfie"])
    updated = await client.put(
        f"{url}/documents/{doc['id']}", json={"type": "Selfie", "value": selfie}
    )
    assert updated.status_code == 200 and updated.json()["type"] == "Selfie"
    assert (await client.delete(f"{url}/documents/{doc['id']}")).status_code == 204
    assert_envelope(await client.get(f"{url}/documents/{doc['id']}"), 404, "NOT_FOUND")


async def test_document_errors(client: httpx.AsyncClient) -> None:
    url, _ = await _tx(client)
    voice = await client.post(f"{url}/documents", json={"type": "Voice Sample", "value": "AAAA"})
    body = assert_envelope(voice, 400, "INVALID_DATA", "type")
    assert body["details"][0]["message"] == "invalid document type for transaction"
    assert body["message"].startswith("The request could not be completed. One or more validation")
    not_b64 = await client.post(f"{url}/documents", json={"type": "Selfie", "value": "%%%"})
    assert_envelope(not_b64, 400, "INVALID_DATA", "value")
    png = b64(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    assert_envelope(
        await client.post(f"{url}/documents", json={"type": "Selfie", "value": png}),
        400, "INVALID_DATA", "value",
    )  # fmt: skip
    missing = await client.post(f"{url}/documents", json={"type": "Selfie"})
    assert_envelope(missing, 400, "INVALID_DATA", "value")


async def test_process_all_data_collected(client: httpx.AsyncClient) -> None:
    url, _ = await _tx(client)
    headers = {"Content-Type": PROCESS_TYPE}
    early = await client.post(f"{url}/documents", content="{}", headers=headers)
    body = assert_envelope(early, 400, "INVALID_DATA", "documents")
    assert "Driver License Front" in body["details"][0]["message"]
    await _submit_all(client, url, "success")
    waiting = (await client.get(url)).json()["transactionStatus"]
    assert waiting["status"] == "IN_PROGRESS"  # everything collected, waiting for the process call
    assert set(waiting["verificationStatus"].values()) == {"COLLECTED"}
    processed = await client.post(f"{url}/documents", content="{}", headers=headers)
    assert processed.status_code == 200, processed.text
    items = processed.json()["_embedded"]["documents"]
    assert {d["status"] for d in items} == {"PROCESSED"} and processed.json()["size"] == len(items)
    status = (await client.get(url)).json()["transactionStatus"]
    assert status["status"] == "SUCCESS"
    assert status["verificationStatus"] == {
        "GOVERNMENT_ID": "SUCCESS",
        "FACIAL_COMPARISON": "SUCCESS",
        "LIVENESS": "SUCCESS",
    }
    late = await client.post(f"{url}/documents", json={"type": "Selfie", "value": "AAAA"})
    assert_envelope(late, 400, "REQUEST_FAILED")


async def test_phone_walks_the_status_machine(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    url, tx = await _tx(client)
    base = f"/v1/idValidations/webVerifications/{tx['id']}"
    code = tx["webVerificationCode"]
    docs = dict(documents_for("success"))

    async def upload(doc_type: str) -> str:
        body = {"code": code, "type": doc_type, "value": b64(docs[doc_type])}
        response = await client.post(f"{base}/documents", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["transactionStatus"]["status"])

    before = await client.post(
        f"{base}/documents", json={"code": code, "type": "Selfie", "value": "x"}
    )
    assert_envelope(before, 400, "REQUEST_FAILED")
    begun = (await client.post(f"{base}/sessions", json={"code": code})).json()
    assert begun["transactionStatus"]["status"] == "INITIATED"
    assert begun["missingDocuments"] == ["Driver License Front", "Driver License Back", "Selfie"]
    assert "Passport" in begun["acceptedDocuments"]
    assert await upload("Driver License Front") == "IN_PROGRESS"
    assert await upload("Driver License Back") == "PARTIAL"
    assert await upload("Selfie") == "SUCCESS"
    sources = (await client.get(f"{url}/verifiedData", params={"type": "END_USER_CLIENT"})).json()
    client_data = sources["_embedded"]["verifiedData"][0]["data"]["sources"]
    assert client_data[0]["ipAddress"] == "127.0.0.1"


@pytest.mark.parametrize(
    ("persona", "status", "message"),
    [
        ("success", "SUCCESS", None),
        ("passport", "SUCCESS", None),
        ("id_card", "SUCCESS", None),
        ("expired_id", "FAIL", "expired"),
        ("bad_mrz", "FAIL", "check digit"),
        ("selfie_mismatch", "FAIL", "selfie does not match"),
        ("liveness_replay", "FAIL", "liveness"),
        ("name_mismatch", "FAIL", "given_name matched LOW"),
        ("birthdate_mismatch", "FAIL", "birth_date matched LOW"),
    ],
)
async def test_persona_decisions_over_http(
    client: httpx.AsyncClient, sandbox: Sandbox, persona: str, status: str, message: str | None
) -> None:
    url, tx = await _tx(client, persona)
    final = await Phone(sandbox).persona(tx["webVerificationUrl"], persona)
    assert final["transactionStatus"]["status"] == status
    read = (await client.get(url)).json()["transactionStatus"]
    assert read["status"] == status
    if message is None:
        assert "providerMessagesList" not in read
    else:
        assert any(message in m for m in read["providerMessagesList"]), read


async def test_verified_data_and_metadata(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    url, tx = await _tx(client)
    await Phone(sandbox).persona(tx["webVerificationUrl"], "success")
    plain = (await client.get(f"{url}/verifiedData")).json()
    items = plain["_embedded"]["verifiedData"]
    types = [i["type"] for i in items]
    for kind in ("GOVERNMENT_ID", "FRONT_IMAGE", "BACK_IMAGE", "BARCODE", "SELFIE",
                 "CROPPED_PORTRAIT", "END_USER_CLIENT"):  # fmt: skip
        assert kind in types
    assert all("data" not in i for i in items)
    full = (await client.get(f"{url}/verifiedData", params={"type": "government_id,selfie"})).json()
    by_type = {i["type"]: i for i in full["_embedded"]["verifiedData"]}
    assert set(by_type) == {"GOVERNMENT_ID", "SELFIE"}
    assert by_type["GOVERNMENT_ID"]["data"]["lastName"] == "DOE"
    assert by_type["GOVERNMENT_ID"]["retry"] == {"attempt": 1}
    one = (await client.get(f"{url}/verifiedData/{by_type['SELFIE']['id']}")).json()
    assert base64.b64decode(one["data"]["IMAGE"])[:2] == b"\xff\xd8"
    assert (await client.get(f"{url}/verifiedData", params={"attempt": "2"})).json()["size"] == 0
    bad = await client.get(f"{url}/verifiedData", params={"attempt": "7"})
    assert_envelope(bad, 400, "INVALID_DATA", "attempt")

    meta = (await client.get(f"{url}/metaData")).json()["_embedded"]["metaData"]
    assert {m["type"] for m in meta} >= {"LIVENESS", "FACIAL_COMPARISON", "BIOGRAPHIC_MATCH"}
    bio = (await client.get(f"{url}/metaData", params={"type": "BIOGRAPHIC_MATCH"})).json()
    [match] = bio["_embedded"]["metaData"]
    assert match["provider"] == "BIOGRAPHIC_MATCHER" and match["status"] == "SUCCESS"
    assert (await client.get(f"{url}/metaData/{match['id']}")).json()["id"] == match["id"]
    assert (await client.delete(f"{url}/metaData/{match['id']}")).status_code == 204
    assert_envelope(await client.get(f"{url}/metaData/{match['id']}"), 404, "NOT_FOUND")


async def test_retention(client: httpx.AsyncClient, sandbox: Sandbox, clock: VirtualClock) -> None:
    url, tx = await _tx(client)
    await Phone(sandbox).persona(tx["webVerificationUrl"], "success")
    selfie_id = (await client.get(f"{url}/verifiedData", params={"type": "SELFIE"})).json()[
        "_embedded"
    ]["verifiedData"][0]["id"]
    clock.advance(30 * 60 - 1)
    assert (await client.get(f"{url}/verifiedData/{selfie_id}")).status_code == 200
    assert (await client.get(f"{url}/documents")).json()["size"] == len(documents_for("success"))
    clock.advance(1)
    assert_envelope(await client.get(f"{url}/verifiedData/{selfie_id}"), 404, "NOT_FOUND")
    assert (await client.get(f"{url}/verifiedData")).json()["size"] == 0
    assert (await client.get(f"{url}/documents")).json()["size"] == 0
    assert (await client.get(f"{url}/metaData")).json()["size"] > 0
    assert (await client.get(url)).json()["transactionStatus"]["status"] == "SUCCESS"


async def test_retry_keeps_previous_attempts(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    policy = {
        "name": "one retry",
        "governmentId": {"verify": "REQUIRED", "retry": {"attempts": 1}},
        "facialComparison": {"verify": "REQUIRED", "threshold": "MEDIUM"},
        "liveness": {"verify": "REQUIRED", "threshold": "MEDIUM"},
    }
    policy_id = (await client.post(f"{API}/verifyPolicies", json=policy)).json()["id"]
    url, tx = await _tx(client, verifyPolicy={"id": policy_id})
    first = await Phone(sandbox).persona(tx["webVerificationUrl"], "expired_id")
    assert first["transactionStatus"]["status"] == "INITIATED"
    assert "expired" in first["transactionStatus"]["providerMessagesList"][0]
    second = await Phone(sandbox).persona(tx["webVerificationUrl"], "success")
    assert second["transactionStatus"]["status"] == "SUCCESS"

    everything = (await client.get(f"{url}/verifiedData", params={"type": "GOVERNMENT_ID"})).json()
    [latest] = everything["_embedded"]["verifiedData"]
    [earlier] = everything["_embedded"]["previousAttempts"]
    assert latest["retry"] == {"attempt": 2} and earlier["retry"] == {"attempt": 1}
    assert earlier["data"]["expirationDate"] == "2024-03-31"
    only_first = await client.get(f"{url}/verifiedData", params={"attempt": "1", "type": "SELFIE"})
    assert only_first.json()["_embedded"]["verifiedData"][0]["retry"] == {"attempt": 1}
    latest_only = (await client.get(f"{url}/verifiedData", params={"attempt": "LATEST"})).json()
    assert latest_only["_embedded"]["previousAttempts"] == []
    docs = (await client.get(f"{url}/documents")).json()["_embedded"]
    count = len(documents_for("success"))
    assert len(docs["documents"]) == count
    assert len(docs["previousAttempts"]) == len(documents_for("expired_id"))


async def test_data_collection_only_keeps_the_verified_data(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    policy = {
        "name": "collect only",
        "governmentId": {"verify": "REQUIRED"},
        "facialComparison": {"verify": "REQUIRED", "threshold": "MEDIUM"},
        "transaction": {"dataCollectionOnly": True},
    }
    policy_id = (await client.post(f"{API}/verifyPolicies", json=policy)).json()["id"]
    url, tx = await _tx(client, "selfie_mismatch", verifyPolicy={"id": policy_id})
    final = await Phone(sandbox).persona(tx["webVerificationUrl"], "selfie_mismatch")
    assert final["transactionStatus"]["status"] == "SUCCESS"  # collected, not judged
    assert (await client.get(f"{url}/metaData")).json()["size"] == 0
    data = (await client.get(f"{url}/verifiedData", params={"type": "GOVERNMENT_ID"})).json()
    assert data["_embedded"]["verifiedData"][0]["data"]["lastName"]


async def test_processing_delay_and_expiry_rules(clock: VirtualClock) -> None:
    sandbox = Sandbox(clock=clock, config={"processing_seconds": 20})
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as c:
        from sandbox_support import token_for

        c.headers["Authorization"] = f"Bearer {await token_for(c)}"
        url, tx = await _tx(c)
        clock.advance(29 * 60 + 50)  # submitted ten seconds before expiresAt
        state = await Phone(sandbox).persona(tx["webVerificationUrl"], "success")
        assert state["transactionStatus"]["status"] == "IN_PROGRESS"
        clock.advance(15)  # past expiresAt, decision still pending: processing continues
        assert (await c.get(url)).json()["transactionStatus"]["status"] == "IN_PROGRESS"
        assert (await c.get(f"{url}/verifiedData")).json()["size"] == 0
        clock.advance(5)
        assert (await c.get(url)).json()["transactionStatus"]["status"] == "SUCCESS"


async def test_data_collection_timeout(client: httpx.AsyncClient, clock: VirtualClock) -> None:
    url, tx = await _tx(client)
    base = f"/v1/idValidations/webVerifications/{tx['id']}"
    await client.post(f"{base}/sessions", json={"code": tx["webVerificationCode"]})
    clock.advance(15 * 60)
    status = (await client.get(url)).json()["transactionStatus"]
    assert status["status"] == "FAIL"
    assert set(status["verificationStatus"].values()) == {"TRANSACTION_TIMED_OUT"}
    assert "data collection" in status["providerMessagesList"][0]


async def test_manual_approval_after_a_failure(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    url, tx = await _tx(client, "selfie_mismatch")
    await Phone(sandbox).persona(tx["webVerificationUrl"], "selfie_mismatch")
    body = {"transactionStatus": {"status": "APPROVED_MANUALLY"}}
    approved = await client.put(url, json=body)
    assert approved.json()["transactionStatus"]["status"] == "APPROVED_MANUALLY"


async def test_background_replacement(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    url, tx = await _tx(client)
    await Phone(sandbox).persona(tx["webVerificationUrl"], "success")
    items = (await client.get(f"{url}/verifiedData")).json()["_embedded"]["verifiedData"]
    ids = {i["type"]: i["id"] for i in items}
    media = {"Content-Type": "application/vnd.pingidentity.replace.background+json"}
    body = {
        "backgroundColor": {"red": 0, "green": 128, "blue": 255},
        "aspectRatio": {"aspectWidth": 3, "aspectHeight": 4},
    }
    import json

    done = await client.post(f"{url}/verifiedData/{ids['SELFIE']}", content=json.dumps(body),
                             headers=media)  # fmt: skip
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["type"] == "SELFIE" and result["data"]["FORMAT"] == "JPEG"
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(base64.b64decode(result["data"]["IMAGE"])))
    assert image.width * 4 == pytest.approx(image.height * 3, abs=4)
    as_json = await client.post(f"{url}/verifiedData/{ids['SELFIE']}", json=body)
    assert_envelope(as_json, 415, "INVALID_REQUEST")
    not_selfie = await client.post(f"{url}/verifiedData/{ids['GOVERNMENT_ID']}",
                                   content=json.dumps(body), headers=media)  # fmt: skip
    assert_envelope(not_selfie, 400, "INVALID_DATA", "type")
    bad = {"backgroundColor": {"red": 300, "green": 0, "blue": 0}}
    wrong = await client.post(f"{url}/verifiedData/{ids['SELFIE']}", content=json.dumps(bad),
                              headers=media)  # fmt: skip
    assert_envelope(wrong, 400, "INVALID_DATA", "backgroundColor.red")


async def test_identity_record_matching_route(client: httpx.AsyncClient) -> None:
    user_id = await make_user(client)
    body = {
        "probe": {"given_name": "Jon", "family_name": "Doe", "birth_date": "04/01/1985"},
        "gallery": {
            "given_name": {"value": "John"},
            "family_name": {"value": "DOE"},
            "birth_date": {"value": "1985-04-01"},
        },
    }
    response = await client.post(f"{API}/users/{user_id}/identityRecordMatching", json=body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["detailedResults"]["family_name"]["confidence"] == "HIGH"
    assert 0 <= result["overallWeightedScore"] <= 1
    assert result["overallConfidenceScore"] in ("HIGH", "MEDIUM", "LOW")
    missing = await client.post(f"{API}/users/{user_id}/identityRecordMatching", json={"probe": {}})
    assert_envelope(missing, 400, "INVALID_DATA", "probe")


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"probe": {"nickname": "Jo"}, "gallery": {"given_name": {"value": "J"}}},
         "probe.nickname"),
        ({"probe": {"given_name": 3}, "gallery": {"given_name": {"value": "J"}}},
         "probe.given_name"),
        ({"probe": {"given_name": "J"}, "gallery": {"given_name": "J"}}, "gallery.given_name"),
        ({"probe": {"given_name": "J"}, "gallery": {"given_name": {"expression": "("}}},
         "gallery.given_name"),
        ({"probe": {"given_name": "J"}, "gallery": {"family_name": {"value": "D"}}}, "probe"),
    ],
)  # fmt: skip
async def test_identity_record_matching_names_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], target: str
) -> None:
    user_id = await make_user(client)
    response = await client.post(f"{API}/users/{user_id}/identityRecordMatching", json=body)
    assert_envelope(response, 400, "INVALID_DATA", target)


async def test_qr_is_a_png_of_the_link(client: httpx.AsyncClient) -> None:
    _, tx = await _tx(client)
    response = await client.get(tx["qrUrl"])
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert_envelope(await client.get("/v1/idValidations/webVerifications/x/qr"), 404, "NOT_FOUND")


async def test_phone_rejects_other_urls(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="txnid"):
        await Phone(sandbox).submit("https://example.com/?code=1", [])

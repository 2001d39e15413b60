"""The request every capability sends, in every region, checked on httpx.MockTransport.

Each case calls the capability as the engine does (input validated against its schema, the
function, output validated against its schema) and compares method, URL, query, headers,
content type and body with what the API reference documents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from flowengine_connectors.pingone.client import PingOneClient
from p1_scripted import ENV, context, json_response, settings

from flowengine import Registry, VirtualClock, load_registry

U, T = "user-1", "tx-1"
TX = f"/users/{U}/verifyTransactions/{T}"
HOSTS = {
    "NA": "https://api.pingone.com",
    "EU": "https://api.pingone.eu",
    "CA": "https://api.pingone.ca",
    "AU": "https://api.pingone.com.au",
    "SG": "https://api.pingone.sg",
    "AP": "https://api.pingone.asia",
    "sandbox": "http://sandbox.pingone.local",
}
TRANSACTION = {
    "id": T,
    "verifyPolicy": {"id": "pol-1"},
    "transactionStatus": {"status": "REQUESTED"},
    "qrUrl": f"https://api.pingone.com/v1/idValidations/webVerifications/{T}/qr",
    "webVerificationUrl": "https://verify.example/index.html?txnid=tx-1&code=082754",
    "webVerificationCode": "082754",
    "createdAt": "2021-11-04T17:32:17.195Z",
    "updatedAt": "2021-11-04T17:32:17.195Z",
    "expiresAt": "2021-11-04T18:02:17.195Z",
}
GOV_ID = {
    "id": "vd-1",
    "type": "GOVERNMENT_ID",
    "data": {"firstName": "Alice", "lastName": "Smith"},
}
SELFIE = {"id": "vd-2", "type": "SELFIE", "data": {"IMAGE": "aW1n"}}
DOC = {"id": "d-1", "type": "Selfie", "value": "aW1n", "status": "COLLECTED"}


def hal(name: str, *items: Any) -> dict[str, Any]:
    return {"_links": {"self": {"href": "x"}}, "_embedded": {name: list(items)}, "size": len(items)}


@dataclass
class Call:
    """One expected request and the answer it gets."""

    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    content_type: str | None = None
    status: int = 200
    answer: Any = None


@dataclass
class Case:
    connector: str
    capability: str
    inputs: dict[str, Any]
    calls: list[Call]
    expect: dict[str, Any] = field(default_factory=dict)
    """Output values (dotted keys) to check."""


CT_BG = "application/vnd.pingidentity.replace.background+json"
CT_PROCESS = "application/vnd.pingidentity.documents.process+json"
CASES = [
    Case(
        "pingone_verify",
        "createVerifyTransaction",
        {
            "userId": U,
            "deviceOsType": "Mobile Web",
            "verifyPolicy": "useVerifyPolicyId",
            "verifyPolicyId": "pol-1",
            "notifyPhone": "+15555550100",
            "notifyEmail": "alice@example.com",
            "verifyPhone": ["+15555550101"],
            "verifyEmail": ["a@example.com", "b@example.com"],
            "referenceImage": "aGVsbG8=",
            "biographic": [
                {"name": "given_name", "value": "Alice"},
                {"name": "family_name", "value": "Smith"},
                {"name": "birth_date", "value": "1990-01-02"},
                {"name": "address", "value": ""},
            ],
            "challenge": "challenge-1",
            "redirectUri": "https://example.com/done",
            "redirectMessage": "Thanks",
        },
        [
            Call(
                "POST",
                f"/users/{U}/verifyTransactions",
                body={
                    "verifyPolicy": {"id": "pol-1"},
                    "sendNotification": {"phone": "+15555550100", "email": "alice@example.com"},
                    "requirements": {
                        "given_name": {"value": "Alice"},
                        "family_name": {"value": "Smith"},
                        "birth_date": {"value": "1990-01-02"},
                        "phone": {"value": "+15555550101"},
                        "email": {"options": ["a@example.com", "b@example.com"]},
                        "referenceSelfie": {"value": "aGVsbG8="},
                    },
                    "redirect": {"url": "https://example.com/done", "message": "Thanks"},
                },
                content_type="application/json",
                status=201,
                answer=TRANSACTION,
            )
        ],
        {"transaction.id": T, "challenge": "challenge-1", "statusCode": 201},
    ),
    Case(
        "pingone_verify",
        "readVerifyTransaction",
        {"userId": U, "transactionId": T},
        [Call("GET", TX, answer=TRANSACTION)],
        {"transaction.transactionStatus.status": "REQUESTED", "rawResponse.id": T},
    ),
    Case(
        "pingone_verify",
        "readVerifyTransactions",
        {"userId": U, "limit": 1},
        [
            Call(
                "GET",
                f"/users/{U}/verifyTransactions",
                params={"limit": "1"},
                answer=hal(
                    "verifyTransactions",
                    {**TRANSACTION, "id": "old", "createdAt": "2020-01-01T00:00:00.000Z"},
                    TRANSACTION,
                ),
            )
        ],
        {"transactions.size": 1, "transactions._embedded.verifyTransactions.0.id": T},
    ),
    Case(
        "pingone_verify",
        "readUserData",
        {"userId": U, "transactionId": T},
        [
            Call("GET", TX, answer={**TRANSACTION, "transactionStatus": {"status": "SUCCESS"}}),
            Call(
                "GET",
                TX + "/verifiedData",
                params={"type": "GOVERNMENT_ID"},
                answer=hal("verifiedData", GOV_ID),
            ),
        ],
        {
            "userData.id": T,
            "userData.transactionStatus.status": "SUCCESS",
            "userData.verifiedUserData.firstName": "Alice",
        },
    ),
    Case(
        "pingone_verify",
        "readGovernmentID",
        {"userId": U, "transactionId": T},
        [
            Call(
                "GET",
                TX + "/verifiedData",
                params={"type": "GOVERNMENT_ID"},
                answer=hal("verifiedData", GOV_ID),
            )
        ],
        {"governmentID._embedded.verifiedData.0.data.lastName": "Smith"},
    ),
    Case(
        "pingone_verify",
        "readVerifiedData",
        {
            "userId": U,
            "transactionId": T,
            "attempt": "LATEST",
            "verifiedType": ["Front Image", "BACK_IMAGE"],
        },
        [
            Call(
                "GET",
                TX + "/verifiedData",
                params={"type": "FRONT_IMAGE,BACK_IMAGE", "attempt": "LATEST"},
                answer=hal("verifiedData", {"id": "f", "type": "FRONT_IMAGE", "data": {}}),
            )
        ],
        {"verifiedData._embedded.verifiedData.0.type": "FRONT_IMAGE"},
    ),
    Case(
        "pingone_verify",
        "readSelfie",
        {"userId": U, "transactionId": T},
        [
            Call(
                "GET",
                TX + "/verifiedData",
                params={"type": "SELFIE"},
                answer=hal("verifiedData", SELFIE),
            )
        ],
        {"selfie._embedded.verifiedData.0.id": "vd-2"},
    ),
    Case(
        "pingone_verify",
        "readMetaData",
        {"userId": U, "transactionId": T, "metadataType": "BIOGRAPHIC_MATCH"},
        [
            Call(
                "GET",
                TX + "/metaData",
                params={"type": "BIOGRAPHIC_MATCH"},
                answer=hal(
                    "metaData",
                    {"id": "m1", "type": "LIVENESS", "status": "SUCCESS"},
                    {"id": "m2", "type": "BIOGRAPHIC_MATCH", "status": "SUCCESS"},
                ),
            )
        ],
        {"metaData.size": 1, "metaData._embedded.metaData.0.id": "m2", "rawResponse.size": 2},
    ),
    Case(
        "pingone_verify",
        "readVerifyPolicy",
        {"verifyPolicySelect": "useVerifyPolicyId", "verifyPolicyIdSelect": "pol-1"},
        [Call("GET", "/verifyPolicies/pol-1", answer={"id": "pol-1", "name": "Strict"})],
        {"verifyPolicy.name": "Strict"},
    ),
    Case(
        "pingone_verify",
        "setVerifyStatus",
        {"userId": U, "verifyStatus": "DISABLED"},
        [
            Call(
                "PUT",
                f"/users/{U}/verifyStatus",
                body={"verifyStatus": "DISABLED"},
                content_type="application/json",
                answer={"verifyStatus": "DISABLED"},
            )
        ],
        {"verifyStatus.verifyStatus": "DISABLED"},
    ),
    Case(
        "pingone_verify",
        "readDocuments",
        {"userId": U, "transactionId": T, "documentTypes": ["Selfie"]},
        [
            Call(
                "GET",
                TX + "/documents",
                answer=hal("documents", {**DOC, "id": "d-0", "type": "Passport Front"}, DOC),
            )
        ],
        {"documents.size": 1, "documents._embedded.documents.0.id": "d-1"},
    ),
    Case(
        "pingone_verify",
        "readDocument",
        {"userId": U, "transactionId": T, "documentId": "d-1"},
        [Call("GET", TX + "/documents/d-1", answer=DOC)],
        {"document.type": "Selfie"},
    ),
    Case(
        "pingone_verify",
        "createDocument",
        {
            "userId": U,
            "transactionId": T,
            "documentTypeName": "Voice Sample",
            "voiceSampleIndex": 2,
            "documentValue": "dm9pY2U=",
        },
        [
            Call(
                "POST",
                TX + "/documents",
                body={"type": "Voice Sample", "value": "dm9pY2U=", "voiceSampleIndex": 2},
                content_type="application/json",
                status=201,
                answer={**DOC, "type": "Voice Sample"},
            )
        ],
        {"document.type": "Voice Sample", "statusCode": 201},
    ),
    Case(
        "pingone_verify",
        "updateDocument",
        {
            "userId": U,
            "transactionId": T,
            "documentId": "d-1",
            "documentTypeName": "Driver License Front",
            "documentValue": "aW1n",
        },
        [
            Call(
                "PUT",
                TX + "/documents/d-1",
                body={"type": "Driver License Front", "value": "aW1n"},
                content_type="application/json",
                answer={**DOC, "type": "Driver License Front"},
            )
        ],
        {"document.type": "Driver License Front"},
    ),
    Case(
        "pingone_verify",
        "deleteDocument",
        {"userId": U, "transactionId": T, "documentId": "d-1"},
        [Call("DELETE", TX + "/documents/d-1", status=204)],
        {"statusCode": 204, "rawResponse": {}},
    ),
    Case(
        "pingone_verify",
        "processDocuments",
        {"userId": U, "transactionId": T},
        [
            Call(
                "POST",
                TX + "/documents",
                body={},
                content_type=CT_PROCESS,
                answer=hal("documents", DOC),
            )
        ],
        {"documents._embedded.documents.0.id": "d-1"},
    ),
    Case(
        "pingone_verify",
        "createExtClientResponse",
        {"webVerificationUrl": "https://verify.example/x", "challengeId": "ch-9"},
        [],
        {
            "challenge": "ch-9",
            "webVerificationUrl": "https://verify.example/x",
            "continueLink": "/runs/run-1/continue?challenge=ch-9",
        },
    ),
    Case(
        "pingone_verify",
        "backgroundReplacer",
        {
            "userId": U,
            "transactionId": T,
            "selfieId": "vd-2",
            "colorPicker": "#FF8000",
            "aspectWidth": 3,
            "aspectHeight": 4,
        },
        [
            Call(
                "POST",
                TX + "/verifiedData/vd-2",
                body={
                    "backgroundColor": {"red": 255, "green": 128, "blue": 0},
                    "aspectRatio": {"aspectHeight": 4, "aspectWidth": 3},
                },
                content_type=CT_BG,
                answer={
                    "id": "vd-2",
                    "type": "SELFIE",
                    "data": {"IMAGE": "bmV3", "FORMAT": "JPEG"},
                },
            )
        ],
        {"backgroundReplace.data.FORMAT": "JPEG"},
    ),
    Case(
        "pingone_verify",
        "identityRecordMatching",
        {
            "userId": U,
            "biographic": [
                {"name": "given_name", "value": "Alicia"},
                {"name": "birth_date", "value": "1990-01-02"},
                {"name": "address", "value": "1 Elm St"},
            ],
        },
        [
            Call(
                "GET",
                f"/users/{U}",
                answer={
                    "id": U,
                    "name": {"given": "Alice", "family": "Smith"},
                    "birthDate": "1990-01-02",
                },
            ),
            Call(
                "POST",
                f"/users/{U}/identityRecordMatching",
                body={
                    "probe": {
                        "given_name": "Alicia",
                        "birth_date": "1990-01-02",
                        "address": "1 Elm St",
                    },
                    "gallery": {
                        "given_name": {"value": "Alice"},
                        "birth_date": {"value": "1990-01-02"},
                    },
                },
                content_type="application/json",
                answer={"overallWeightedScore": 0.9, "overallConfidenceScore": "HIGH"},
            ),
        ],
        {"matchingResults.overallConfidenceScore": "HIGH"},
    ),
    Case(
        "pingone",
        "createUser",
        {
            "username": "alice",
            "email": "alice@example.com",
            "givenName": "Alice",
            "familyName": "Smith",
            "populationId": "pop-1",
        },
        [
            Call(
                "POST",
                "/users",
                body={
                    "username": "alice",
                    "email": "alice@example.com",
                    "name": {"given": "Alice", "family": "Smith"},
                    "population": {"id": "pop-1"},
                },
                content_type="application/json",
                status=201,
                answer={"id": U, "username": "alice"},
            )
        ],
        {"user.id": U, "statusCode": 201},
    ),
    Case(
        "pingone",
        "readUser",
        {"userId": U},
        [Call("GET", f"/users/{U}", answer={"id": U, "username": "alice"})],
        {"user.username": "alice"},
    ),
    Case(
        "pingone",
        "findUser",
        {"email": "alice@example.com"},
        [
            Call(
                "GET",
                "/users",
                params={"filter": 'email eq "alice@example.com"', "limit": "1"},
                answer=hal("users", {"id": U, "username": "alice"}),
            )
        ],
        {"found": True, "user.id": U},
    ),
    Case(
        "pingone",
        "updateUser",
        {"userId": U, "familyName": "Jones"},
        [
            Call(
                "GET",
                f"/users/{U}",
                answer={"id": U, "name": {"given": "Alice", "family": "Smith"}},
            ),
            Call(
                "PATCH",
                f"/users/{U}",
                body={"name": {"given": "Alice", "family": "Jones"}},
                content_type="application/json",
                answer={"id": U, "name": {"family": "Jones"}},
            ),
        ],
        {"user.name.family": "Jones"},
    ),
    Case(
        "pingone",
        "deleteUser",
        {"userId": U},
        [Call("DELETE", f"/users/{U}", status=204)],
        {"statusCode": 204},
    ),
]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


def test_every_capability_has_a_case(registry: Registry) -> None:
    covered = {(c.connector, c.capability) for c in CASES}
    ours = {k for k in registry.capabilities if k[0] in ("pingone", "pingone_verify")}
    assert ours == covered


def dig(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


async def run_case(
    case: Case, region: str, registry: Registry, clock: VirtualClock
) -> tuple[dict[str, Any], list[httpx.Request]]:
    answers = list(case.calls)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/as/token"):
            return json_response(200, {"access_token": "token-1", "expires_in": 3600})
        seen.append(request)
        call = answers.pop(0)
        if call.answer is None:
            return httpx.Response(call.status, headers={"correlation-id": "corr-1"})
        return json_response(call.status, call.answer, {"correlation-id": "corr-1"})

    loaded = registry.capability(case.connector, case.capability)
    loaded.input.validate(case.inputs)
    transport = httpx.MockTransport(handler)
    async with PingOneClient(settings(region), transport=transport, clock=clock) as client:
        output = loaded.capability.func(dict(case.inputs), context(client, clock))
        if loaded.capability.is_async:
            output = await output
    loaded.output.validate(output)
    return output, seen


@pytest.mark.parametrize("region", list(HOSTS))
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.connector}.{c.capability}")
async def test_request(case: Case, region: str, registry: Registry, clock: VirtualClock) -> None:
    output, seen = await run_case(case, region, registry, clock)
    assert len(seen) == len(case.calls)
    for request, call in zip(seen, case.calls, strict=True):
        base = f"{HOSTS[region]}/v1/environments/{ENV}"
        assert request.method == call.method
        assert f"{request.url.scheme}://{request.url.host}{request.url.path}" == base + call.path
        assert dict(request.url.params) == call.params
        assert request.headers["authorization"] == "Bearer token-1"
        assert request.headers["accept"] == "application/json"
        assert request.headers["x-ping-external-session-id"] == "run-1"
        assert request.headers["x-ping-external-transaction-id"] == "run-1/node#1"
        if call.body is None:
            assert request.content == b"" and "content-type" not in request.headers
        else:
            assert request.headers["content-type"] == call.content_type
            assert json.loads(request.content) == call.body
    for dotted, expected in case.expect.items():
        assert dig(output, dotted) == expected, dotted
    if case.calls:
        assert output["headers"]["correlation-id"] == "corr-1"

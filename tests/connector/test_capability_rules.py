"""The mapping rules of single capabilities: policy choice, challenges, biographic names, errors."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from flowengine_connectors.pingone import PingOneError
from flowengine_connectors.pingone.client import PingOneClient
from flowengine_connectors.pingone_verify import (
    _documents,
    _policies,
    _transactions,
    _verified_data,
)
from flowengine_connectors.pingone_verify._common import biographic_fields
from p1_scripted import context, json_response, settings

from flowengine import ConnectorError, Outcome, VirtualClock

POLICIES = {
    "_embedded": {
        "verifyPolicies": [
            {"id": "p-default", "name": "Default Verify Policy", "default": True},
            {"id": "p-strict", "name": "Strict ID", "default": False},
        ]
    },
    "size": 2,
}


class Recorder:
    """Answers every API request with `answer`, keeping (method, path, query, body)."""

    def __init__(self, answer: Any = None, status: int = 200) -> None:
        self.answer = answer if answer is not None else {"id": "x"}
        self.status = status
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/as/token"):
            return json_response(200, {"access_token": "t", "expires_in": 3600})
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.method, request.url.path, dict(request.url.params), body))
        return json_response(self.status, self.answer)


async def call(func: Any, inputs: dict[str, Any], recorder: Recorder, clock: VirtualClock) -> Any:
    transport = httpx.MockTransport(recorder)
    async with PingOneClient(settings(), transport=transport, clock=clock) as client:
        result = func(inputs, context(client, clock))
        return await result if hasattr(result, "__await__") else result


@pytest.mark.parametrize(
    ("select", "policy_id", "path", "expected"),
    [
        ("useVerifyPolicyId", "p-strict", "/verifyPolicies/p-strict", None),
        ("Use Verify Policy ID", "p-strict", "/verifyPolicies/p-strict", None),
        ("strict id", None, "/verifyPolicies", "p-strict"),
        ("useVerifyPolicyId", "", "/verifyPolicies", "p-default"),
        ("", None, "/verifyPolicies", "p-default"),
    ],
)
async def test_read_verify_policy_choice(
    select: str, policy_id: str | None, path: str, expected: str | None, clock: VirtualClock
) -> None:
    recorder = Recorder(POLICIES)
    inputs = {"verifyPolicySelect": select, "verifyPolicyIdSelect": policy_id}
    out = await call(_policies.readVerifyPolicy, inputs, recorder, clock)
    assert recorder.calls[0][1].endswith(path)
    if expected:
        assert out["verifyPolicy"]["id"] == expected
    if select == "strict id":
        assert recorder.calls[0][2] == {"filter": 'name eq "strict id"'}


async def test_unknown_policy_name_is_a_clear_error(clock: VirtualClock) -> None:
    with pytest.raises(PingOneError, match="no verify policy is named 'Lenient'") as e:
        await call(
            _policies.readVerifyPolicy, {"verifyPolicySelect": "Lenient"}, Recorder(POLICIES), clock
        )
    assert (e.value.code, e.value.status_code) == ("NOT_FOUND", 404)
    assert e.value.message.endswith(
        "fix verifyPolicySelect, or give the policy's ID in verifyPolicyIdSelect with "
        "verifyPolicySelect: useVerifyPolicyId"
    )


async def test_unknown_policy_name_in_create_transaction_names_its_fields(
    clock: VirtualClock,
) -> None:
    """Create Transaction's fields are verifyPolicy / verifyPolicyId, not Read Policy's."""
    inputs = {"userId": "u", "deviceOsType": "Mobile Web", "verifyPolicy": "Lenient"}
    with pytest.raises(PingOneError, match="no verify policy is named 'Lenient'") as e:
        await call(_transactions.createVerifyTransaction, inputs, Recorder(POLICIES), clock)
    assert e.value.message.endswith(
        "fix verifyPolicy, or give the policy's ID in verifyPolicyId with "
        "verifyPolicy: useVerifyPolicyId"
    )


async def test_create_transaction_by_policy_name_and_random_challenge(clock: VirtualClock) -> None:
    recorder = Recorder(POLICIES)
    inputs = {"userId": "u", "deviceOsType": "Mobile Web", "verifyPolicy": "Strict ID"}
    first = await call(_transactions.createVerifyTransaction, inputs, recorder, clock)
    second = await call(_transactions.createVerifyTransaction, inputs, recorder, clock)
    posts = [c for c in recorder.calls if c[0] == "POST"]
    assert posts[0][3] == {"verifyPolicy": {"id": "p-strict"}}
    assert len(first["challenge"]) >= 20 and first["challenge"] != second["challenge"]


async def test_create_transaction_minimal_body_uses_default_policy(clock: VirtualClock) -> None:
    recorder = Recorder({"id": "tx"})
    await call(
        _transactions.createVerifyTransaction,
        {"userId": "u", "deviceOsType": "Mobile Web", "verifyPolicy": "useVerifyPolicyId"},
        recorder,
        clock,
    )
    assert recorder.calls == [
        ("POST", "/v1/environments/env-0001/users/u/verifyTransactions", {}, {})
    ]


def test_several_verification_phones_become_options() -> None:
    body = _transactions.transaction_body(
        {"verifyPhone": ["+1", "+2"], "redirectUrl": "https://x"}, None
    )
    assert body == {
        "requirements": {"phone": {"options": ["+1", "+2"]}},
        "redirect": {"url": "https://x"},
    }


def test_biographic_names_as_davinci_labels_are_accepted() -> None:
    items = [{"name": "Given Name", "value": "A"}, {"name": "Birthdate", "value": "1990-01-01"}]
    assert biographic_fields(items) == {"given_name": "A", "birth_date": "1990-01-01"}
    with pytest.raises(ConnectorError, match=r"biographic\[0\]\.name 'shoe_size'"):
        biographic_fields([{"name": "shoe_size", "value": "9"}])


def test_a_bare_biographic_value_is_named_by_its_type_not_echoed() -> None:
    with pytest.raises(ConnectorError) as info:
        biographic_fields(["Ada Lovelace"])
    assert "Ada Lovelace" not in str(info.value)
    assert "biographic[0] must be an object {name, value}, not a str" in str(info.value)


def test_colour_picker_to_rgb() -> None:
    assert _verified_data.hex_to_rgb("#0a0B0c") == {"red": 10, "green": 11, "blue": 12}
    assert _verified_data.hex_to_rgb("fff") == {"red": 255, "green": 255, "blue": 255}
    with pytest.raises(ConnectorError, match="use #RRGGBB"):
        _verified_data.hex_to_rgb("#12")


async def test_background_finds_the_selfie_when_no_id(clock: VirtualClock) -> None:
    recorder = Recorder({"_embedded": {"verifiedData": [{"id": "s-9", "type": "SELFIE"}]}})
    inputs = {"userId": "u", "transactionId": "t", "colorPicker": "#000000"}
    await call(_verified_data.backgroundReplacer, inputs, recorder, clock)
    (get, post) = recorder.calls
    assert get[2] == {"type": "SELFIE"}
    assert post[1].endswith("/verifiedData/s-9")
    assert post[3] == {"backgroundColor": {"red": 0, "green": 0, "blue": 0}}


def test_document_types_read_as_pingone_names() -> None:
    assert _documents.document_type("DRIVER_LICENSE_FRONT") == "Driver License Front"
    assert _documents.document_type("passport card back") == "Passport Card Back"
    with pytest.raises(ConnectorError, match=r"^documentTypeName: .*unknown; use one of Driver"):
        _documents.document_type("Library Card")
    with pytest.raises(ConnectorError, match=r"^documentTypes: document type 'x'"):
        _documents.document_type("x", "documentTypes")


async def test_identity_record_matching_needs_a_probe(clock: VirtualClock) -> None:
    inputs = {"userId": "u", "biographic": [{"name": "name", "value": ""}]}
    recorder = Recorder()
    with pytest.raises(ConnectorError, match="needs biographic items with values"):
        await call(_documents.identityRecordMatching, inputs, recorder, clock)
    assert recorder.calls == []


def test_the_gallery_is_read_off_the_user_record() -> None:
    user = {
        "name": {"given": "John", "middle": "Q", "family": "Doe"},
        "address": {
            "streetAddress": "123 Main Street",
            "locality": "Springfield",
            "region": "IL",
            "postalCode": "62701",
        },
        "birthDate": "1985-04-01",
    }
    assert _documents.gallery_of(user) == {
        "given_name": "John",
        "family_name": "Doe",
        "name": "John Q Doe",
        "address": "123 Main Street, Springfield, IL 62701",
        "birth_date": "1985-04-01",
    }
    formatted = {"name": {"formatted": "Dr John Doe", "given": " "}, "address": "1 Elm St"}
    assert _documents.gallery_of(formatted) == {"name": "Dr John Doe", "address": "1 Elm St"}
    assert _documents.gallery_of({"name": "not an object", "birthDate": 19850401}) == {}


async def test_find_user_not_found_outcome(clock: VirtualClock) -> None:
    from flowengine_connectors.pingone import _users

    recorder = Recorder({"_embedded": {"users": []}, "size": 0})
    result = await call(_users.findUser, {"username": 'a"b'}, recorder, clock)
    assert isinstance(result, Outcome) and result.name == "not_found"
    assert result.output["found"] is False
    assert recorder.calls[0][2]["filter"] == 'username eq "a\\"b"'


async def test_ext_client_response_state_and_last_step(clock: VirtualClock) -> None:
    inputs = {
        "webVerificationUrl": "https://v.example/x",
        "challengeId": "c1",
        "isLastClientStep": True,
    }
    out = await call(_transactions.createExtClientResponse, inputs, Recorder(), clock)
    assert "continueLink" not in out
    padded = out["clientState"] + "=" * (-len(out["clientState"]) % 4)
    state = json.loads(base64.urlsafe_b64decode(padded))
    assert state == {
        "challenge": "c1",
        "nodeId": "node",
        "runId": "run-1",
        "webVerificationUrl": "https://v.example/x",
    }


async def test_limit_keeps_the_latest(clock: VirtualClock) -> None:
    items = [{"id": str(i), "createdAt": f"2026-01-0{i}T00:00:00.000Z"} for i in (1, 3, 2)]
    recorder = Recorder({"_embedded": {"verifyTransactions": items}, "size": 3})
    out = await call(
        _transactions.readVerifyTransactions, {"userId": "u", "limit": 2}, recorder, clock
    )
    assert [t["id"] for t in out["transactions"]["_embedded"]["verifyTransactions"]] == ["3", "2"]
    assert out["rawResponse"]["size"] == 3

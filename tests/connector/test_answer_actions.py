"""The pingone plugin's answer actions (phone, sandbox.advance, documents), embedded sandbox."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest
from flowengine_connectors.pingone.client import PingOneClient
from flowengine_connectors.pingone_sandbox import Sandbox, default_sandbox, use_sandbox
from flowengine_connectors.pingone_sandbox.plugin import (
    advance_action,
    documents_action,
    phone_action,
)

from flowengine import Interaction, RunError, SystemClock, VirtualClock, load_registry


def test_actions_are_registered() -> None:
    actions = load_registry().answer_actions
    assert actions["phone"] is phone_action
    assert actions["sandbox.advance"] is advance_action


def test_advance_moves_the_default_sandbox_clock() -> None:
    clock = default_sandbox().clock
    assert isinstance(clock, SystemClock)
    offset, before = clock.offset, clock.now()
    try:
        assert advance_action(Interaction("qr"), {"minutes": 2, "seconds": 5}, None) == {}
        assert clock.now() - before >= 125  # a system clock also moves by itself meanwhile
        assert clock.now() - before < 125 + 60
    finally:
        clock.offset = offset  # other tests share the process's sandbox


@pytest.mark.parametrize("args", [{}, {"seconds": 0}, {"minutes": "soon"}])
def test_advance_needs_a_positive_number(args: dict[str, object]) -> None:
    with pytest.raises(RunError, match=r"sandbox\.advance"):
        advance_action(Interaction("qr"), args, None)


async def test_phone_needs_a_qr_interaction_and_a_persona() -> None:
    env = SimpleNamespace(node_id="get_details", run=SimpleNamespace(id="r1"))
    with pytest.raises(RunError, match="node 'get_details' shows a 'form' interaction") as e:
        await phone_action(Interaction("form", {"fields": []}), {"persona": "alice"}, env)
    assert e.value.run_id == "r1"
    qr = Interaction("qr", {"url": "http://sandbox.pingone.local/verify/index.html?txnid=t"})
    with pytest.raises(RunError, match="persona: <name>"):
        await phone_action(qr, {}, env)
    with pytest.raises(RunError, match="unknown persona 'nobody'; choose one of success"):
        await phone_action(qr, {"persona": "nobody"}, env)


async def test_phone_refused_by_the_sandbox_is_a_run_error() -> None:
    clock = VirtualClock()
    settings = {"environment_id": "env-p", "client_id": "sandbox-client"}
    settings["client_secret"] = "sandbox-secret"
    settings["region"] = "sandbox"
    with use_sandbox(Sandbox(clock=clock)):
        async with PingOneClient(settings, clock=clock) as client:
            user = await client.post(client.env_path("users"), json={"username": "late"})
            tx = await client.post(
                client.env_path("users", user.body["id"], "verifyTransactions"), json={}
            )
        clock.advance(31 * 60)  # past expiresAt: the transaction takes no more documents
        qr = Interaction("qr", {"url": tx.body["webVerificationUrl"]})
        env = SimpleNamespace(node_id="show_qr", run=SimpleNamespace(id="r2"))
        with pytest.raises(RunError, match=r"'show_qr'.*no longer accepts documents") as e:
            await phone_action(qr, {"persona": "success"}, env)
    assert e.value.run_id == "r2"


async def test_phone_for_a_transaction_of_another_process_says_how_to_share_the_sandbox() -> None:
    # An in-memory embedded sandbox never saw this transaction (it was made by the process
    # that started the run): the error says how to keep the sandbox's state in a file.
    url = (
        "http://sandbox.pingone.local/verify-webapp/index.html?txnid=gone&code=123456"
        "&url=http%3A%2F%2Fsandbox.pingone.local%2Fv1%2FidValidations%2FwebVerifications"
    )
    env = SimpleNamespace(node_id="show_qr", run=SimpleNamespace(id="r3"))
    with (
        use_sandbox(Sandbox(clock=VirtualClock())),
        pytest.raises(RunError, match=r"unknown transaction.*set FLOWENGINE_SANDBOX_DATA=FILE"),
    ):
        await phone_action(Interaction("qr", {"url": url}), {"persona": "success"}, env)


def test_documents_fill_the_fields_named_after_document_types() -> None:
    fields = [
        {"name": "driver_license_front"},
        {"name": "code", "label": "Driver License Code"},
        {"name": "note"},
    ]
    env = SimpleNamespace(node_id="upload")
    out = documents_action(Interaction("form", {"fields": fields}), {"persona": "success"}, env)
    assert set(out) == {"driver_license_front", "code"}
    assert base64.b64decode(out["driver_license_front"])[:2] == b"\xff\xd8"  # a JPEG
    assert out["code"].startswith("@")  # the AAMVA barcode text
    unmatched = Interaction("form", {"fields": [{"name": "note"}]})
    with pytest.raises(RunError, match=r"no field of node 'upload' \(note\).*driver_license"):
        documents_action(unmatched, {"persona": "success"}, env)
    with pytest.raises(RunError, match="unknown persona"):
        documents_action(Interaction("form", {"fields": fields}), {"persona": "nobody"}, env)


async def test_sandbox_region_reaches_the_embedded_sandbox() -> None:
    settings = {
        "environment_id": "env-embedded-test",
        "client_id": "sandbox-client",
        "client_secret": "sandbox-secret",
        "region": "sandbox",
    }
    async with PingOneClient(settings) as client:
        response = await client.get(client.env_path("verifyPolicies"))
    policies = response.body["_embedded"]["verifyPolicies"]
    assert any(p.get("default") for p in policies)

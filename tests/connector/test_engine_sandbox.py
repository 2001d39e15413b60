"""Every PingOne capability run through the engine against the in-process sandbox."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import flowengine_connectors.pingone.client as client_module
import pytest
from flowengine_connectors.pingone.client import PingOneClient
from flowengine_connectors.pingone_sandbox import Sandbox
from p1_engine import output_of, run_capability

from flowengine import Engine, Registry, VirtualClock


async def new_user(engine: Engine, registry: Registry) -> dict[str, Any]:
    name = f"user-{uuid.uuid4().hex[:8]}"
    out = await output_of(
        engine,
        registry,
        "pingone",
        "createUser",
        username=name,
        email=f"{name}@example.com",
        givenName="Alice",
        familyName="Smith",
    )
    return dict(out["user"])


async def test_users_lifecycle(engine: Engine, registry: Registry) -> None:
    user = await new_user(engine, registry)
    assert user["name"] == {"given": "Alice", "family": "Smith"}
    read = await output_of(engine, registry, "pingone", "readUser", userId=user["id"])
    assert read["user"]["username"] == user["username"] and read["statusCode"] == 200
    found = await output_of(engine, registry, "pingone", "findUser", username=user["username"])
    assert found["found"] is True and found["user"]["id"] == user["id"]
    found = await output_of(engine, registry, "pingone", "findUser", email=user["email"])
    assert found["user"]["id"] == user["id"]
    updated = await output_of(
        engine, registry, "pingone", "updateUser", userId=user["id"], familyName="Jones"
    )
    assert updated["user"]["name"]["family"] == "Jones"
    assert updated["user"]["name"]["given"] == "Alice"
    deleted = await output_of(engine, registry, "pingone", "deleteUser", userId=user["id"])
    assert deleted["statusCode"] == 204
    gone = await run_capability(engine, registry, "pingone", "readUser", {"userId": user["id"]})
    assert gone.status == "failed"
    assert (gone.error or {}).get("status_code") == 404


async def test_find_user_not_found_is_an_outcome(engine: Engine, registry: Registry) -> None:
    run = await run_capability(engine, registry, "pingone", "findUser", {"username": "nobody-here"})
    assert run.status == "completed"
    assert run.nodes["n"]["outcome"] == "not_found"
    assert run.result["found"] is False


async def test_transaction_policy_status_and_ext_client(engine: Engine, registry: Registry) -> None:
    user = await new_user(engine, registry)
    policy = await output_of(
        engine, registry, "pingone_verify", "readVerifyPolicy", verifyPolicySelect=""
    )
    assert policy["verifyPolicy"]["default"] is True
    by_id = await output_of(
        engine,
        registry,
        "pingone_verify",
        "readVerifyPolicy",
        verifyPolicySelect="useVerifyPolicyId",
        verifyPolicyIdSelect=policy["verifyPolicy"]["id"],
    )
    assert by_id["verifyPolicy"]["id"] == policy["verifyPolicy"]["id"]
    by_name = await output_of(
        engine,
        registry,
        "pingone_verify",
        "readVerifyPolicy",
        verifyPolicySelect=policy["verifyPolicy"]["name"],
    )
    assert by_name["verifyPolicy"]["id"] == policy["verifyPolicy"]["id"]

    created = await output_of(
        engine,
        registry,
        "pingone_verify",
        "createVerifyTransaction",
        userId=user["id"],
        deviceOsType="Mobile Web",
        verifyPolicy=policy["verifyPolicy"]["name"],
        biographic=[
            {"name": "given_name", "value": "Alice"},
            {"name": "family_name", "value": "Smith"},
        ],
    )
    tx = created["transaction"]
    assert created["statusCode"] == 201 and created["challenge"]
    assert tx["verifyPolicy"]["id"] == policy["verifyPolicy"]["id"]
    assert tx["transactionStatus"]["status"] == "REQUESTED"
    ids = {"userId": user["id"], "transactionId": tx["id"]}
    read = await output_of(engine, registry, "pingone_verify", "readVerifyTransaction", **ids)
    assert read["transaction"]["webVerificationUrl"] == tx["webVerificationUrl"]
    listed = await output_of(
        engine, registry, "pingone_verify", "readVerifyTransactions", userId=user["id"], limit=1
    )
    assert [t["id"] for t in listed["transactions"]["_embedded"]["verifyTransactions"]] == [
        tx["id"]
    ]
    status = await output_of(
        engine,
        registry,
        "pingone_verify",
        "setVerifyStatus",
        userId=user["id"],
        verifyStatus="DISABLED",
    )
    assert status["verifyStatus"]["verifyStatus"] == "DISABLED"
    ext = await output_of(
        engine,
        registry,
        "pingone_verify",
        "createExtClientResponse",
        webVerificationUrl=tx["webVerificationUrl"],
        challengeId=created["challenge"],
    )
    assert ext["challenge"] == created["challenge"] and ext["continueLink"].startswith("/runs/")


async def test_identity_record_matching(engine: Engine, registry: Registry) -> None:
    """The doc's schema: `userId` and `biographic` (the probe); the gallery is the user record."""
    user = await new_user(engine, registry)  # Alice Smith
    out = await output_of(
        engine,
        registry,
        "pingone_verify",
        "identityRecordMatching",
        userId=user["id"],
        biographic=[
            {"name": "given_name", "value": "Alice"},
            {"name": "family_name", "value": "Smyth"},
        ],
    )
    results = out["matchingResults"]["detailedResults"]
    assert set(results) == {"given_name", "family_name"}
    assert results["given_name"]["rawScore"] == 1.0
    assert results["given_name"]["galleryValue"] == "Alice"
    assert results["family_name"]["galleryValue"] == "Smith"
    assert 0.85 <= results["family_name"]["rawScore"] < 1.0
    assert results["given_name"]["rawScore"] > results["family_name"]["rawScore"]
    assert out["matchingResults"]["overallConfidenceScore"] in {"HIGH", "MEDIUM"}


async def test_identity_record_matching_names_fields_the_record_lacks(
    engine: Engine, registry: Registry
) -> None:
    user = await new_user(engine, registry)  # no address, no birthDate
    run = await run_capability(
        engine,
        registry,
        "pingone_verify",
        "identityRecordMatching",
        {"userId": user["id"], "biographic": [{"name": "birth_date", "value": "1990-01-02"}]},
    )
    assert run.status == "failed"
    error = run.error or {}
    assert error["code"] == "NO_COMMON_FIELDS"
    assert "(birth_date)" in error["message"] and "birthDate" in error["message"]
    assert "1990-01-02" not in str(run.to_dict())


async def test_pingone_error_is_the_error_outcome(engine: Engine, registry: Registry) -> None:
    user = await new_user(engine, registry)
    run = await run_capability(
        engine,
        registry,
        "pingone_verify",
        "readVerifyTransaction",
        {"userId": user["id"], "transactionId": "no-such-transaction"},
    )
    assert run.status == "failed"
    error = run.error or {}
    assert error["code"] == "NOT_FOUND" and error["status_code"] == 404
    assert "no-such-transaction" in error["message"]


async def test_wrong_secret_fails_with_authentication_error(
    engine: Engine, registry: Registry
) -> None:
    from p1_engine import SANDBOX_SETTINGS

    settings = {**SANDBOX_SETTINGS, "client_secret": "not-the-secret"}
    run = await run_capability(engine, registry, "pingone", "findUser", {"username": "x"}, settings)
    assert run.status == "failed"
    assert (run.error or {})["code"] == "AUTHENTICATION_FAILED"
    assert "not-the-secret" not in str(run.to_dict())


async def test_one_client_and_one_token_per_connection(
    registry: Registry, clock: VirtualClock, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[PingOneClient] = []
    real_open = client_module.PingOneClient

    def counting_open(settings: Any) -> PingOneClient:
        opened.append(real_open(settings))
        return opened[-1]

    monkeypatch.setattr(registry.connectors["pingone"], "open", counting_open)
    async with Engine(registry, clock=clock, environ={}) as engine:
        for name in ("a", "b", "c"):
            await output_of(engine, registry, "pingone", "createUser", username=f"reuse-{name}")
            await output_of(engine, registry, "pingone", "findUser", username=f"reuse-{name}")
        assert len(opened) == 1 and opened[0].auth.token_requests == 1
        assert not opened[0]._http.is_closed
    assert opened[0]._http.is_closed  # Engine.aclose() closed the connection's client


ENGINE_TESTS = ("test_engine_sandbox.py", "test_verification.py")


def test_every_capability_runs_through_the_engine_somewhere(registry: Registry) -> None:
    here = Path(__file__).parent
    text = "".join((here / name).read_text(encoding="utf-8") for name in ENGINE_TESTS)
    ours = [k for k in registry.capabilities if k[0] in ("pingone", "pingone_verify")]
    missing = [f"{c}.{n}" for c, n in ours if f'"{n}"' not in text]
    assert not missing, f"no engine test runs {missing}"


async def test_identity_record_matching_no_longer_takes_probe_biographic(
    engine: Engine, registry: Registry
) -> None:
    """The undocumented `probeBiographic` is gone: a node that still sends it is told so."""
    from p1_engine import one_node_flow

    from flowengine import check_flow

    inputs = {
        "userId": "u",
        "biographic": [{"name": "given_name", "value": "Alice"}],
        "probeBiographic": [{"name": "given_name", "value": "Alice"}],
    }
    text = one_node_flow("pingone_verify", "identityRecordMatching", inputs, None)
    _, diagnostics = check_flow("irm.yaml", registry, text=text)
    assert any("probeBiographic" in str(d) for d in diagnostics), [str(d) for d in diagnostics]

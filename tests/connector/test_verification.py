"""A whole verification through the engine: documents submitted by API or by the phone action."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from flowengine_connectors.pingone_sandbox import PERSONAS, documents_for
from p1_engine import output_of, run_capability

from flowengine import Answers, Engine, Registry, drive, load_flow

REGISTRATION = Path(__file__).resolve().parents[2] / "flows" / "registration.yaml"
V = "pingone_verify"


async def start_transaction(engine: Engine, registry: Registry, persona: str) -> dict[str, str]:
    claimed = PERSONAS[persona].biographic()
    user = await output_of(engine, registry, "pingone", "createUser", username=f"{persona}-api")
    created = await output_of(
        engine,
        registry,
        V,
        "createVerifyTransaction",
        userId=user["user"]["id"],
        deviceOsType="Mobile Web",
        biographic=[{"name": k, "value": v} for k, v in claimed.items()],
    )
    return {"userId": user["user"]["id"], "transactionId": created["transaction"]["id"]}


def encoded(value: bytes | str) -> str:
    return value if isinstance(value, str) else base64.b64encode(value).decode()


async def test_documents_by_api_then_every_read(engine: Engine, registry: Registry) -> None:
    ids = await start_transaction(engine, registry, "success")
    submitted = {}
    for doc_type, value in documents_for("success"):
        out = await output_of(
            engine,
            registry,
            V,
            "createDocument",
            **ids,
            documentTypeName=doc_type,
            documentValue=encoded(value),
        )
        assert out["statusCode"] == 201 and out["document"]["type"] == doc_type
        submitted[doc_type] = out["document"]["id"]
    code = submitted["Driver License Code"]
    one = await output_of(engine, registry, V, "readDocument", **ids, documentId=code)
    assert one["document"]["value"] == dict(documents_for("success"))["Driver License Code"]
    again = await output_of(
        engine,
        registry,
        V,
        "updateDocument",
        **ids,
        documentId=code,
        documentTypeName="Driver License Code",
        documentValue=one["document"]["value"],
    )
    assert again["document"]["id"] == code
    selfies = await output_of(engine, registry, V, "readDocuments", **ids, documentTypes=["Selfie"])
    assert [d["type"] for d in selfies["documents"]["_embedded"]["documents"]] == ["Selfie"]
    processed = await output_of(engine, registry, V, "processDocuments", **ids)
    assert processed["documents"]["_embedded"]["documents"]

    tx = await output_of(engine, registry, V, "readVerifyTransaction", **ids)
    assert tx["transaction"]["transactionStatus"]["status"] == "SUCCESS"
    user_data = await output_of(engine, registry, V, "readUserData", **ids)
    assert user_data["userData"]["transactionStatus"]["status"] == "SUCCESS"
    assert user_data["userData"]["verifiedUserData"]["lastName"].upper() == "DOE"
    gov = await output_of(engine, registry, V, "readGovernmentID", **ids)
    assert gov["governmentID"]["_embedded"]["verifiedData"][0]["type"] == "GOVERNMENT_ID"
    selfie = await output_of(engine, registry, V, "readSelfie", **ids)
    assert selfie["selfie"]["_embedded"]["verifiedData"][0]["data"]["IMAGE"]
    images = await output_of(
        engine,
        registry,
        V,
        "readVerifiedData",
        **ids,
        attempt="LATEST",
        verifiedType=["Front Image"],
    )
    assert {i["type"] for i in images["verifiedData"]["_embedded"]["verifiedData"]} == {
        "FRONT_IMAGE"
    }
    meta = await output_of(
        engine, registry, V, "readMetaData", **ids, metadataType="BIOGRAPHIC_MATCH"
    )
    matches = meta["metaData"]["_embedded"]["metaData"]
    assert matches and all(m["type"] == "BIOGRAPHIC_MATCH" for m in matches)
    badge = await output_of(
        engine,
        registry,
        V,
        "backgroundReplacer",
        **ids,
        colorPicker="#FFFFFF",
        aspectWidth=3,
        aspectHeight=4,
    )
    assert (
        badge["backgroundReplace"]["data"]["IMAGE"]
        != selfie["selfie"]["_embedded"]["verifiedData"][0]["data"]["IMAGE"]
    )
    deleted = await output_of(engine, registry, V, "deleteDocument", **ids, documentId=code)
    assert deleted["statusCode"] == 204


async def test_a_failing_persona_fails_the_transaction(engine: Engine, registry: Registry) -> None:
    ids = await start_transaction(engine, registry, "selfie_mismatch")
    for doc_type, value in documents_for("selfie_mismatch"):
        await output_of(
            engine,
            registry,
            V,
            "createDocument",
            **ids,
            documentTypeName=doc_type,
            documentValue=encoded(value),
        )
    await output_of(engine, registry, V, "processDocuments", **ids)
    tx = await output_of(engine, registry, V, "readVerifyTransaction", **ids)
    assert tx["transaction"]["transactionStatus"]["status"] == "FAIL"


async def test_unacceptable_document_is_an_error_outcome(
    engine: Engine, registry: Registry
) -> None:
    ids = await start_transaction(engine, registry, "success")
    run = await run_capability(
        engine,
        registry,
        V,
        "createDocument",
        {**ids, "documentTypeName": "Voice Sample", "voiceSampleIndex": 1, "documentValue": "AAAA"},
    )
    assert run.status == "failed"
    error: dict[str, Any] = run.error or {}
    assert error["status_code"] == 400 and error["code"] == "INVALID_DATA"


@pytest.mark.parametrize(
    ("answers", "status", "result"),
    [
        ("success.yaml", "completed", "VERIFIED"),
        ("late-scan.yaml", "completed", "VERIFIED"),
        ("biographic-mismatch.yaml", "failed", None),
    ],
)
async def test_registration_flow_headless_with_the_phone_action(
    engine: Engine, registry: Registry, answers: str, status: str, result: str | None
) -> None:
    flow = load_flow(REGISTRATION, registry)
    run = await engine.start(flow)
    run = await drive(
        engine,
        run,
        flow,
        answers=Answers.load(REGISTRATION.parent / "registration" / answers),
        registry=registry,
    )
    assert "create_verify_transaction" in run.path and "show_qr_code" in run.path
    assert run.status == status, run.error
    if result:
        assert run.result["result"]["status"] == result
        assert run.result["result"]["verifiedData"]["lastName"] == "DOE"

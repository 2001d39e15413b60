"""One test per documented decision rule (docs/sandbox.md, "Decision rules"), with its persona."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

from flowengine_connectors.pingone_sandbox import PERSONAS, documents_for, requirements_for

# Tests of the verification rules (a private subpackage): they call its functions directly.
from flowengine_connectors.pingone_sandbox.verification import (
    SubmittedDocument,
    evaluate,
    missing_documents,
)
from flowengine_connectors.pingone_sandbox.verification.cards import CARD_REGIONS
from PIL import Image


def run(docs, persona, policy, now, requirements=None):
    reqs = requirements_for(persona) if requirements is None else requirements
    return evaluate(docs(persona), requirements=reqs, policy=policy, now=now)


def meta(evaluation, kind):
    (item,) = [m for m in evaluation.metadata if m["type"] == kind]
    return item


def test_rule_success_driver_licence(docs, policy, now):
    ev = run(docs, "success", policy, now)
    assert ev.status == "SUCCESS"
    assert ev.provider_messages == []
    assert ev.verification_status == {
        "DOCUMENT_AUTHENTICATION": "SUCCESS",
        "BIOGRAPHIC_MATCH": "SUCCESS",
        "FACIAL_COMPARISON": "SUCCESS",
        "LIVENESS": "SUCCESS",
    }
    assert meta(ev, "FACIAL_COMPARISON")["data"]["similarity"] >= 97.0
    assert meta(ev, "LIVENESS")["data"]["probability"] == 1.0


def test_rule_success_passport_and_id_card(docs, policy, now):
    for persona in ("passport", "id_card"):
        ev = run(docs, persona, policy, now)
        assert ev.status == "SUCCESS", (persona, ev.provider_messages)


def test_rule_document_expired(docs, policy, now):
    ev = run(docs, "expired_id", policy, now)
    assert ev.status == "FAIL"
    assert ev.provider_messages == ["government ID expired on 2024-03-31"]
    auth = meta(ev, "DOCUMENT_AUTHENTICATION")
    assert auth["status"] == "FAIL"
    assert {"name": "Expiration", "judgement": "Expired"} in auth["data"]["mitekVerifications"]


def test_rule_document_expired_allowed_when_policy_says_so(docs, policy, now):
    policy["governmentId"]["failExpiredId"] = False
    ev = run(docs, "expired_id", policy, now)
    assert ev.status == "SUCCESS"
    assert meta(ev, "DOCUMENT_AUTHENTICATION")["status"] == "SUCCESS"


def test_rule_expiry_is_judged_against_now(docs, policy, now):
    later = now.replace(year=2036)  # the success persona's licence expires 2035-12-31
    ev = run(docs, "success", policy, later)
    assert ev.status == "FAIL"
    assert "government ID expired on 2035-12-31" in ev.provider_messages


def test_rule_mrz_check_digit(docs, policy, now):
    ev = run(docs, "bad_mrz", policy, now)
    assert ev.status == "FAIL"
    assert any("check digit for document number" in m for m in ev.provider_messages)
    auth = meta(ev, "DOCUMENT_AUTHENTICATION")
    assert {"name": "MRZ Analysis", "judgement": "Fraudulent"} in auth["data"]["mitekVerifications"]
    assert not [v for v in ev.verified_data if v["type"] == "GOVERNMENT_ID"]


def test_rule_facial_comparison(docs, policy, now):
    ev = run(docs, "selfie_mismatch", policy, now)
    assert ev.status == "FAIL"
    face = meta(ev, "FACIAL_COMPARISON")
    assert face["status"] == "FAIL"
    assert face["data"]["similarity"] < face["data"]["minimumSimilarity"] == 95.5
    assert ev.provider_messages[0].startswith("selfie does not match the ID portrait")


def test_rule_facial_comparison_thresholds(docs, policy, now):
    for threshold, minimum in (("LOW", 94.0), ("MEDIUM", 95.5), ("HIGH", 97.0)):
        policy["facialComparison"]["threshold"] = threshold
        face = meta(run(docs, "success", policy, now), "FACIAL_COMPARISON")
        assert face["data"]["minimumSimilarity"] == minimum
        assert face["status"] == "SUCCESS"
        assert (
            meta(run(docs, "selfie_mismatch", policy, now), "FACIAL_COMPARISON")["status"] == "FAIL"
        )


def test_rule_optional_check_does_not_fail(docs, policy, now):
    policy["facialComparison"]["verify"] = "OPTIONAL"
    ev = run(docs, "selfie_mismatch", policy, now)
    assert ev.status == "SUCCESS"
    assert meta(ev, "FACIAL_COMPARISON")["status"] == "FAIL"
    assert ev.provider_messages[0].endswith("(optional check; not failing)")


def test_rule_disabled_check_is_not_run(docs, policy, now):
    policy["facialComparison"]["verify"] = "DISABLED"
    ev = run(docs, "selfie_mismatch", policy, now)
    assert ev.status == "SUCCESS"
    assert "FACIAL_COMPARISON" not in {m["type"] for m in ev.metadata}


def test_rule_liveness_replay(docs, policy, now):
    ev = run(docs, "liveness_replay", policy, now)
    assert ev.status == "FAIL"
    live = meta(ev, "LIVENESS")
    assert live["status"] == "FAIL"
    assert live["data"]["probability"] == 0.0
    assert "selfie is a copy of the ID portrait (replay)" in live["data"]["reasons"]


def test_rule_liveness_small_or_flat_selfie(docs, policy, now):
    flat = Image.new("RGB", (200, 200), (120, 140, 160))
    buf = io.BytesIO()
    flat.save(buf, "JPEG")
    documents = [d for d in docs("success") if d.type != "Selfie"]
    documents.append(SubmittedDocument("Selfie", buf.getvalue(), now + timedelta(minutes=1), "s"))
    ev = evaluate(documents, requirements={}, policy=policy, now=now)
    live = meta(ev, "LIVENESS")
    assert live["status"] == "FAIL"
    assert "selfie smaller than 240x240 pixels" in live["data"]["reasons"]
    assert any(r.startswith("no camera sensor grain") for r in live["data"]["reasons"])


def test_rule_biographic_name_mismatch(docs, policy, now):
    ev = run(docs, "name_mismatch", policy, now)
    assert ev.status == "FAIL"
    bio = meta(ev, "BIOGRAPHIC_MATCH")
    assert bio["status"] == "FAIL"
    results = {r["identifier"]: r["match"] for r in bio["data"]["biographic_match_results"]}
    assert results == {
        "given_name": "LOW",
        "family_name": "LOW",
        "birth_date": "HIGH",
        "address": "HIGH",
    }
    assert "given_name matched LOW, policy requires MEDIUM" in ev.provider_messages[0]


def test_rule_biographic_birthdate_mismatch(docs, policy, now):
    ev = run(docs, "birthdate_mismatch", policy, now)
    assert ev.status == "FAIL"
    results = {
        r["identifier"]: r["match"]
        for r in meta(ev, "BIOGRAPHIC_MATCH")["data"]["biographic_match_results"]
    }
    assert results["birth_date"] == "LOW"
    assert results["given_name"] == "HIGH"


def test_rule_biographic_policy_threshold_and_field_required(docs, policy, now):
    partial = {"given_name": {"value": "JON"}, "family_name": {"value": "DOE"}}
    ev = run(docs, "success", policy, now, requirements=partial)
    assert ev.status == "SUCCESS"  # JON vs JOHN is MEDIUM, the default threshold
    policy["identityRecordMatching"] = {"given_name": {"threshold": "HIGH", "fieldRequired": True}}
    assert run(docs, "success", policy, now, requirements=partial).status == "FAIL"
    policy["identityRecordMatching"]["given_name"]["fieldRequired"] = False
    assert run(docs, "success", policy, now, requirements=partial).status == "SUCCESS"


def test_rule_biographic_accepts_camel_case_and_options(docs, policy, now):
    reqs = {"givenName": {"options": ["JOHNNY", "JOHN"]}, "birthDate": {"value": "04/01/1985"}}
    ev = run(docs, "success", policy, now, requirements=reqs)
    results = {
        r["identifier"]: r["match"]
        for r in meta(ev, "BIOGRAPHIC_MATCH")["data"]["biographic_match_results"]
    }
    assert results == {"given_name": "HIGH", "birth_date": "HIGH"}


def test_rule_not_a_jpeg_fails(docs, policy, now):
    png = io.BytesIO()
    Image.new("RGB", (640, 400), "white").save(png, "PNG")
    documents = [d for d in docs("success") if d.type != "Driver License Front"]
    documents.append(SubmittedDocument("Driver License Front", png.getvalue(), now, "f"))
    ev = evaluate(documents, requirements={}, policy=policy, now=now)
    assert ev.status == "FAIL"
    assert (
        "Driver License Front: not a JPEG image (no SOI marker FFD8 at the start)"
        in ev.provider_messages[0]
    )


def test_rule_unreadable_barcode_fails(docs, policy, now):
    documents = [
        d for d in docs("success") if d.type not in ("Driver License Code", "Driver License Back")
    ]
    documents.append(SubmittedDocument("Driver License Back", _plain_jpeg(), now, "b"))
    ev = evaluate(documents, requirements={}, policy=policy, now=now)
    assert ev.status == "FAIL"
    assert "DL barcode could not be read" in ev.provider_messages[0]


def test_rule_barcode_read_from_back_image_comment(docs, policy, now):
    documents = [d for d in docs("success") if d.type != "Driver License Code"]
    ev = evaluate(documents, requirements=requirements_for("success"), policy=policy, now=now)
    assert ev.status == "SUCCESS"
    gov = next(v for v in ev.verified_data if v["type"] == "GOVERNMENT_ID")
    assert gov["data"]["lastName"] == "DOE"


def test_rule_missing_required_documents(docs, policy, now):
    documents = [d for d in docs("success") if d.type == "Driver License Front"]
    assert missing_documents(documents, {}, policy) == ["Driver License Back", "Selfie"]
    assert missing_documents([], {}, policy) == [
        "Driver License Front",
        "Driver License Back",
        "Selfie",
    ]
    assert missing_documents(docs("passport"), {}, policy) == []
    assert missing_documents(docs("id_card")[:1], {}, policy) == ["ID Card Back", "Selfie"]
    ev = evaluate(documents, requirements={}, policy=policy, now=now)
    assert ev.status == "FAIL"
    assert "required document missing: Selfie" in ev.provider_messages


def test_rule_reference_selfie_without_government_id(docs, policy, now):
    policy["governmentId"]["verify"] = "DISABLED"
    selfie = next(d for d in docs("success") if d.type == "Selfie")
    other = next(d for d in docs("selfie_mismatch") if d.type == "Selfie")
    same = {"referenceSelfie": {"value": base64.b64encode(_portrait("success")).decode()}}
    ev = evaluate([selfie], requirements=same, policy=policy, now=now)
    assert ev.status == "SUCCESS"
    assert meta(ev, "FACIAL_COMPARISON")["status"] == "SUCCESS"
    ev = evaluate([other], requirements=same, policy=policy, now=now)
    assert meta(ev, "FACIAL_COMPARISON")["status"] == "FAIL"


def test_rule_data_collection_only(docs, policy, now):
    policy["transaction"] = {"dataCollectionOnly": True}
    ev = run(docs, "selfie_mismatch", policy, now)
    assert ev.status == "SUCCESS"
    assert ev.metadata == []
    assert {v["type"] for v in ev.verified_data} >= {"GOVERNMENT_ID", "SELFIE"}


def test_every_persona_meets_its_expectation(docs, policy, now):
    for name, persona in PERSONAS.items():
        assert run(docs, name, policy, now).status == persona.expected, name


def test_evaluation_is_deterministic(docs, policy, now):
    a = run(docs, "selfie_mismatch", policy, now)
    b = run(docs, "selfie_mismatch", policy, now)
    assert a == b


def _plain_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (640, 400), (200, 200, 200)).save(buf, "JPEG")
    return buf.getvalue()


def _portrait(persona: str) -> bytes:
    """The ID portrait of a persona, cut from its licence front (a reference selfie)."""
    front = dict(documents_for(persona))["Driver License Front"]
    assert isinstance(front, bytes)
    img = Image.open(io.BytesIO(front)).convert("RGB")
    buf = io.BytesIO()
    img.crop(CARD_REGIONS.box("portrait", img.size)).save(buf, "JPEG")
    return buf.getvalue()


def test_rule_id_image_too_small(docs, policy, now):
    documents = [d for d in docs("success") if d.type != "Driver License Front"]
    small = io.BytesIO()
    Image.new("RGB", (160, 100), (200, 210, 220)).save(small, "JPEG")
    documents.append(SubmittedDocument("Driver License Front", small.getvalue(), now, "f"))
    ev = evaluate(documents, requirements={}, policy=policy, now=now)
    assert ev.status == "FAIL"
    assert ev.provider_messages[0] == (
        "Driver License Front: image 160x100 is too small to read (at least 320x200 pixels)"
    )
    assert "CROPPED_PORTRAIT" not in {v["type"] for v in ev.verified_data}


def test_rule_facial_comparison_without_a_reference_face(docs, policy, now):
    policy["governmentId"]["verify"] = "DISABLED"
    selfie = [d for d in docs("success") if d.type == "Selfie"]
    ev = evaluate(selfie, requirements={}, policy=policy, now=now)
    assert ev.status == "FAIL"
    assert meta(ev, "FACIAL_COMPARISON")["status"] == "FAIL"
    assert ev.provider_messages == [
        "no face to compare the selfie with (no readable ID portrait or referenceSelfie)"
    ]

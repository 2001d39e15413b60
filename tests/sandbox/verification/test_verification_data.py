"""The verifiedData and metaData an evaluation produces: types and shapes the API returns."""

from __future__ import annotations

import base64
import io
import json

from flowengine_connectors.pingone_sandbox import requirements_for

# Tests of the verification rules (a private subpackage): they call its functions directly.
from flowengine_connectors.pingone_sandbox.verification import evaluate
from PIL import Image
from shared_files import shared_file

CLIENT = {"ipAddress": "127.0.0.1", "userAgent": "pytest-phone"}


def _by_type(ev):
    return {v["type"]: v["data"] for v in ev.verified_data}


def test_driver_licence_verified_data_types(docs, policy, now):
    ev = evaluate(docs("success", source=CLIENT), requirements={}, policy=policy, now=now)
    data = _by_type(ev)
    assert set(data) == {
        "GOVERNMENT_ID", "FRONT_IMAGE", "BACK_IMAGE", "BARCODE", "SELFIE",
        "CROPPED_PORTRAIT", "CROPPED_DOCUMENT", "CROPPED_SIGNATURE", "END_USER_CLIENT",
    }  # fmt: skip
    assert data["END_USER_CLIENT"] == {"sources": [CLIENT]}
    assert data["BARCODE"]["FORMAT"] == "PDF417"
    assert data["BARCODE"]["BARCODE"].startswith("@\n\x1e\rANSI 636000")


def test_government_id_has_the_documented_shape(docs, policy, now):
    ev = evaluate(docs("success"), requirements={}, policy=policy, now=now)
    gov = _by_type(ev)["GOVERNMENT_ID"]
    demo = json.loads(
        shared_file("reference/pingone-examples/government-id-verified-data-demo.json").read_text()
    )
    assert set(demo) <= set(gov)
    assert gov["firstName"] == "JOHN"
    assert gov["lastName"] == "DOE"
    assert gov["fullName"] == "JOHN Q DOE"
    assert gov["birthDate"] == "1985-04-01"
    assert gov["expirationDate"] == "2035-12-31"
    assert gov["issueDate"] == "2020-10-15"
    assert gov["idNumber"] == "D1234567"
    assert gov["address"] == "123 MAIN ST, SPRINGFIELD, IL 62701"
    assert gov["idType"] == "[DriversLicenseFront, DriversLicenseBack]"
    assert gov["country"] == "USA"


def test_passport_government_id(docs, policy, now):
    ev = evaluate(docs("passport"), requirements={}, policy=policy, now=now)
    gov = _by_type(ev)["GOVERNMENT_ID"]
    assert gov["idType"] == "PassportPicturePage"
    assert (gov["firstName"], gov["lastName"], gov["birthDate"]) == (
        "MARIA",
        "GARCIA",
        "1990-07-14",
    )
    assert gov["nationality"] == "USA"
    assert "BACK_IMAGE" not in _by_type(ev)


def test_images_are_base64_jpegs_and_crops_have_region_sizes(docs, policy, now):
    data = _by_type(evaluate(docs("success"), requirements={}, policy=policy, now=now))
    sizes = {}
    for kind in (
        "FRONT_IMAGE",
        "BACK_IMAGE",
        "SELFIE",
        "CROPPED_PORTRAIT",
        "CROPPED_DOCUMENT",
        "CROPPED_SIGNATURE",
    ):
        raw = base64.b64decode(data[kind]["IMAGE"])
        assert raw[:2] == b"\xff\xd8" and raw[-2:] == b"\xff\xd9", kind
        sizes[kind] = Image.open(io.BytesIO(raw)).size
    assert sizes["FRONT_IMAGE"] == sizes["CROPPED_DOCUMENT"] == (640, 400)
    assert sizes["CROPPED_PORTRAIT"] == (176, 220)
    assert sizes["CROPPED_SIGNATURE"] == (242, 58)
    assert sizes["SELFIE"] == (480, 480)


def test_metadata_items_have_type_status_provider_data(docs, policy, now):
    ev = evaluate(docs("success"), requirements=requirements_for("success"), policy=policy, now=now)
    assert [m["type"] for m in ev.metadata] == [
        "DOCUMENT_AUTHENTICATION", "BIOGRAPHIC_MATCH", "FACIAL_COMPARISON", "LIVENESS",
    ]  # fmt: skip
    for item in ev.metadata:
        assert set(item) == {"type", "status", "provider", "data"}
        assert item["status"] in ("SUCCESS", "FAIL")
    bio = next(m for m in ev.metadata if m["type"] == "BIOGRAPHIC_MATCH")
    for result in bio["data"]["biographic_match_results"]:
        assert set(result) == {"identifier", "match", "score"}


def test_resubmitted_document_replaces_the_earlier_one(docs, policy, now):
    documents = docs("selfie_mismatch")
    good_selfie = next(d for d in docs("success") if d.type == "Selfie")
    good_selfie.submitted_at = max(d.submitted_at for d in documents).replace(minute=5)
    ev = evaluate([*documents, good_selfie], requirements={}, policy=policy, now=now)
    assert ev.status == "SUCCESS"


def test_selfie_given_as_base64_text(docs, policy, now):
    documents = docs("success")
    for d in documents:
        if isinstance(d.data, bytes):
            d.data = base64.b64encode(d.data).decode()
    assert evaluate(documents, requirements={}, policy=policy, now=now).status == "SUCCESS"

"""Personas: every one is complete, deterministic, and `make_documents` writes its files."""

from __future__ import annotations

import json

import pytest

# Tests of the verification rules (a private subpackage): they call its functions directly.
from flowengine_connectors.pingone_sandbox.verification import check_document
from flowengine_connectors.pingone_sandbox.verification._jpeg import jpeg_comments
from flowengine_connectors.pingone_sandbox.verification.personas import (
    PERSONAS,
    documents_for,
    make_documents,
    requirements_for,
)

REQUIRED_PERSONAS = {
    "success", "passport", "expired_id", "bad_mrz", "selfie_mismatch", "name_mismatch",
    "birthdate_mismatch",
}  # fmt: skip


def test_required_personas_exist():
    assert set(PERSONAS) >= REQUIRED_PERSONAS


@pytest.mark.parametrize("name", sorted(PERSONAS))
def test_persona_documents_are_valid_submissions(name):
    docs = documents_for(name)
    types = [t for t, _ in docs]
    assert types[-1] == "Selfie"
    for doc_type, data in docs:
        check_document(doc_type, data)
    assert documents_for(name) == docs  # deterministic


def test_machine_readable_text_rides_in_the_jpeg_comment():
    dl = dict(documents_for("success"))
    (comment,) = jpeg_comments(dl["Driver License Back"])
    assert comment == dl["Driver License Code"]
    passport = dict(documents_for("passport"))
    (mrz,) = jpeg_comments(passport["Passport"])
    assert [len(line) for line in mrz.split("\n")] == [44, 44]


def test_requirements_follow_the_api_shape():
    assert requirements_for("success") == {
        "given_name": {"value": "JOHN"},
        "family_name": {"value": "DOE"},
        "birth_date": {"value": "1985-04-01"},
        "address": {"value": "123 MAIN ST, SPRINGFIELD, IL 62701"},
    }
    assert requirements_for("name_mismatch")["given_name"] == {"value": "ROBERT"}


def test_unknown_persona_lists_the_known_ones():
    with pytest.raises(KeyError, match="unknown persona 'nobody'; choose one of success"):
        documents_for("nobody")


def test_make_documents_writes_files(tmp_path):
    paths = make_documents("success", tmp_path / "out")
    names = [p.name for p in paths]
    assert names == [
        "driver-license-front.jpg", "driver-license-back.jpg", "driver-license-code.txt",
        "selfie.jpg", "persona.json",
    ]  # fmt: skip
    assert paths[0].read_bytes() == dict(documents_for("success"))["Driver License Front"]
    assert paths[2].read_bytes().decode("utf-8").startswith("@\n\x1e\rANSI ")
    info = json.loads(paths[-1].read_text())
    assert info["expected"] == "SUCCESS"
    assert info["documents"][0] == {
        "type": "Driver License Front",
        "file": "driver-license-front.jpg",
    }

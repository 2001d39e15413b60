"""The `documents` answer action: a sandbox persona's documents into an upload form."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flowengine_connectors.pingone_sandbox import documents_for
from flowengine_connectors.pingone_sandbox.plugin import documents_action

from flowengine import Interaction, RunError


def upload_form(*fields: dict[str, Any]) -> Interaction:
    return Interaction("form", {"fields": list(fields)})


def test_fields_named_after_document_types_get_the_persona_documents() -> None:
    form = upload_form(
        {"name": "driver_license_front", "label": "Front"},
        {"name": "driver_license_code", "label": "Barcode"},
        {"name": "selfie", "label": "Selfie"},
        {"name": "passport_front", "label": "Passport"},
    )
    response = documents_action(form, {"persona": "success"}, None)
    docs = dict(documents_for("success"))
    assert set(response) == {"driver_license_front", "driver_license_code", "selfie"}
    assert base64.b64decode(response["driver_license_front"]) == docs["Driver License Front"]
    assert response["driver_license_code"] == docs["Driver License Code"]  # text stays text
    assert base64.b64decode(response["selfie"]).startswith(b"\xff\xd8")  # a JPEG


def test_fields_labelled_with_a_document_type_and_the_passport_page() -> None:
    form = upload_form(
        {"name": "id", "label": "Passport Front"}, {"name": "face", "label": "Selfie"}
    )
    response = documents_action(form, {"persona": "passport"}, None)
    assert base64.b64decode(response["id"]) == dict(documents_for("passport"))["Passport"]
    assert set(response) == {"id", "face"}


def test_refuses_other_screens_and_unknown_personas() -> None:
    with pytest.raises(RunError, match="needs a form interaction"):
        documents_action(Interaction("qr", {"url": "x"}), {"persona": "success"}, None)
    with pytest.raises(RunError, match="unknown persona 'nobody'"):
        documents_action(upload_form({"name": "selfie"}), {"persona": "nobody"}, None)

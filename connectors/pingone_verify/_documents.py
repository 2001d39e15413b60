"""Data collected from the user during a verification (documents), and identity record matching."""

from __future__ import annotations

import re
from typing import Any

from flowengine_connectors.pingone import client_of
from flowengine_connectors.pingone_verify._common import (
    BIOGRAPHIC_FIELDS,
    biographic_fields,
    connector,
    output_with,
    transaction_path,
)

from flowengine import CallContext, ConnectorError

__all__ = [
    "DOCUMENT_TYPES",
    "createDocument",
    "deleteDocument",
    "document_type",
    "gallery_of",
    "identityRecordMatching",
    "processDocuments",
    "readDocument",
    "readDocuments",
    "updateDocument",
]

DOCUMENT_TYPES = (
    "Driver License Front",
    "Driver License Back",
    "Driver License Code",
    "Passport Front",
    "Passport Card Front",
    "Passport Card Back",
    "Selfie",
    "Phone",
    "Email",
    "Voice Sample",
    "Voice Input",
)
"""PingOne's document types are these readable names, not enum constants (API reference §5.3)."""
_BY_KEY = {re.sub(r"[\s_\-]+", "", t).lower(): t for t in DOCUMENT_TYPES}
PROCESS_CONTENT_TYPE = "application/vnd.pingidentity.documents.process+json"


def document_type(name: str, field: str = "documentTypeName") -> str:
    """The readable type PingOne expects: "DRIVER_LICENSE_FRONT" -> "Driver License Front"."""
    found = _BY_KEY.get(re.sub(r"[\s_\-]+", "", name).lower())
    if found is None:
        raise ConnectorError(
            f"{field}: document type {name!r} is unknown; use one of {', '.join(DOCUMENT_TYPES)}",
            code="INVALID_INPUT",
        )
    return found


def _document_body(inputs: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": document_type(inputs["documentTypeName"]),
        "value": inputs["documentValue"],
    }
    if inputs.get("voiceSampleIndex") is not None:
        # Voice enrolment takes several samples; the index (from 1) says which one this is.
        body["voiceSampleIndex"] = int(inputs["voiceSampleIndex"])
    return body


@connector.capability(title="Return All Collected Data")
async def readDocuments(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Return the data collected from the user, of the chosen types (all when none)."""
    client = client_of(ctx)
    response = await client.get(transaction_path(client, inputs, "documents"))
    wanted = {document_type(t, "documentTypes") for t in inputs.get("documentTypes") or []}
    keep = (lambda item: item.get("type") in wanted) if wanted else None
    return output_with(response, "documents", "documents", keep)


@connector.capability(title="Read Collected Data")
async def readDocument(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Return one piece of data collected from the user."""
    client = client_of(ctx)
    response = await client.get(transaction_path(client, inputs, "documents", inputs["documentId"]))
    return response.output("document")


@connector.capability(title="Submit Collected Data")
async def createDocument(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Submit one piece of data collected from the user (an ID image, a selfie, a phone...)."""
    client = client_of(ctx)
    response = await client.post(
        transaction_path(client, inputs, "documents"), json=_document_body(inputs)
    )
    return response.output("document")


@connector.capability(title="Update Collected Data")
async def updateDocument(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Replace one piece of data collected from the user."""
    client = client_of(ctx)
    response = await client.put(
        transaction_path(client, inputs, "documents", inputs["documentId"]),
        json=_document_body(inputs),
    )
    return response.output("document")


@connector.capability(title="Delete Collected Data")
async def deleteDocument(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Delete one piece of data collected from the user."""
    client = client_of(ctx)
    response = await client.delete(
        transaction_path(client, inputs, "documents", inputs["documentId"])
    )
    return response.output()


@connector.capability(title="Process All Data Collected")
async def processDocuments(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Ask PingOne to verify all the data collected so far; returns the documents."""
    client = client_of(ctx)
    response = await client.post(
        transaction_path(client, inputs, "documents"),
        json={},
        content_type=PROCESS_CONTENT_TYPE,
    )
    return output_with(response, "documents", "documents")


@connector.capability(title="Identity Record Matching")
async def identityRecordMatching(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Match the values typed now (`biographic`, the probe) with the user's PingOne record.

    The connector's documented input is `userId` and `biographic` ("Probe Biographic Info");
    the gallery (the verified values) is the PingOne user `userId` as PingOne keeps it, read
    with `GET /users/{userId}` (docs/assumptions.md, "identityRecordMatching").
    """
    client = client_of(ctx)
    probe = biographic_fields(inputs.get("biographic"), "biographic")
    if not probe:
        raise ConnectorError(
            "identityRecordMatching needs biographic items with values: the probe biographic "
            f"info to match with the user's record ({', '.join(BIOGRAPHIC_FIELDS)})",
            code="INVALID_INPUT",
        )
    user = (await client.get(client.env_path("users", inputs["userId"]))).body
    record = gallery_of(user if isinstance(user, dict) else {})
    gallery = {key: {"value": record[key]} for key in probe if key in record}
    if not gallery:
        # Field names only: the values are the person's.
        raise ConnectorError(
            f"identityRecordMatching: the PingOne user's record has none of the probe's fields "
            f"({', '.join(probe)}); the record gives given_name (name.given), family_name "
            "(name.family), name (name.formatted, or the name parts), address (address) and "
            "birth_date (birthDate): set them on the user, or send those fields",
            code="NO_COMMON_FIELDS",
        )
    response = await client.post(
        client.env_path("users", inputs["userId"], "identityRecordMatching"),
        json={"probe": probe, "gallery": gallery},
        idempotent=True,  # a comparison creates nothing: safe to repeat
    )
    return response.output("matchingResults")


def gallery_of(user: dict[str, Any]) -> dict[str, str]:
    """The biographic fields of a PingOne user resource (empty ones left out).

    `name.given`, `name.family`, `name.formatted` (else given, middle and family joined), the
    `address` object as "street, locality, region postalCode", and `birthDate` (not a standard
    PingOne attribute: a custom one, as the identity-matching flow stores it).
    """
    raw_name = user.get("name")
    name: dict[str, Any] = raw_name if isinstance(raw_name, dict) else {}
    parts = [_text(name.get(k)) for k in ("given", "middle", "family")]
    address = user.get("address")
    if isinstance(address, dict):
        street, locality = _text(address.get("streetAddress")), _text(address.get("locality"))
        tail = " ".join(
            x for x in (_text(address.get("region")), _text(address.get("postalCode"))) if x
        )
        address_text = ", ".join(x for x in (street, locality, tail) if x)
    else:
        address_text = _text(address)
    found = {
        "given_name": _text(name.get("given")),
        "family_name": _text(name.get("family")),
        "name": _text(name.get("formatted")) or " ".join(x for x in parts if x),
        "address": address_text,
        "birth_date": _text(user.get("birthDate")),
    }
    return {key: value for key, value in found.items() if value}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""

"""Verified data and metadata of a transaction: government ID, selfie, images, background."""

from __future__ import annotations

import re
from typing import Any

from flowengine_connectors.pingone import (
    PingOneClient,
    PingOneError,
    PingOneResponse,
    client_of,
    embedded_items,
)
from flowengine_connectors.pingone_verify._common import connector, output_with, transaction_path

from flowengine import CallContext, ConnectorError

__all__ = [
    "backgroundReplacer",
    "readGovernmentID",
    "readMetaData",
    "readSelfie",
    "readUserData",
    "readVerifiedData",
    "verified_type",
]

BACKGROUND_CONTENT_TYPE = "application/vnd.pingidentity.replace.background+json"


def verified_type(label: str) -> str:
    """The API's type for a dropdown label: "Government ID" -> GOVERNMENT_ID."""
    return re.sub(r"[\s\-]+", "_", label.strip()).upper()


async def _verified_data(
    client: PingOneClient, inputs: dict[str, Any], types: list[str], attempt: Any = None
) -> PingOneResponse:
    params = {"type": ",".join(types) if types else None}
    if attempt not in (None, ""):
        params["attempt"] = str(attempt).upper()
    return await client.get(transaction_path(client, inputs, "verifiedData"), params=params)


def _typed(types: list[str]) -> Any:
    wanted = set(types)
    return (lambda item: str(item.get("type", "")).upper() in wanted) if wanted else None


@connector.capability(title="Read Verified Data")
async def readVerifiedData(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Read the verified data of the chosen types (all types when none), for an attempt."""
    client = client_of(ctx)
    types = [verified_type(t) for t in inputs.get("verifiedType") or []]
    response = await _verified_data(client, inputs, types, inputs.get("attempt"))
    return output_with(response, "verifiedData", "verifiedData", _typed(types))


@connector.capability(title="Read Government ID")
async def readGovernmentID(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Read the data parsed off the government ID (verifiedData of type GOVERNMENT_ID)."""
    client = client_of(ctx)
    response = await _verified_data(client, inputs, ["GOVERNMENT_ID"])
    return output_with(response, "governmentID", "verifiedData", _typed(["GOVERNMENT_ID"]))


@connector.capability(title="Read Selfie")
async def readSelfie(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Read the selfie the user took (verifiedData of type SELFIE)."""
    client = client_of(ctx)
    response = await _verified_data(client, inputs, ["SELFIE"])
    return output_with(response, "selfie", "verifiedData", _typed(["SELFIE"]))


@connector.capability(title="Read User Data")
async def readUserData(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """The transaction's status with the user data read off the government ID."""
    client = client_of(ctx)
    transaction = await client.get(transaction_path(client, inputs))
    verified = await _verified_data(client, inputs, ["GOVERNMENT_ID"])
    ids = [
        i for i in embedded_items(verified.body, "verifiedData") if i.get("type") == "GOVERNMENT_ID"
    ]
    tx = transaction.body or {}
    user_data = {
        "id": tx.get("id", inputs["transactionId"]),
        "transactionStatus": {"status": (tx.get("transactionStatus") or {}).get("status")},
        "verifiedUserData": dict(ids[0].get("data") or {}) if ids else {},
    }
    if user_data["transactionStatus"]["status"] is None:
        user_data["transactionStatus"] = {}
    return {
        "userData": user_data,
        "rawResponse": user_data,
        "headers": verified.headers,
        "statusCode": verified.status_code,
    }


@connector.capability(title="Read Metadata")
async def readMetaData(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Read the verification's metadata: one type (LIVENESS, BIOGRAPHIC_MATCH, ...) or ALL."""
    client = client_of(ctx)
    wanted = str(inputs.get("metadataType") or "ALL").upper()
    params = {"type": wanted} if wanted != "ALL" else None
    response = await client.get(transaction_path(client, inputs, "metaData"), params=params)
    keep = (lambda item: str(item.get("type", "")).upper() == wanted) if wanted != "ALL" else None
    return output_with(response, "metaData", "metaData", keep)


def hex_to_rgb(value: str) -> dict[str, int]:
    """A colour picker's "#RRGGBB" or "#RGB" -> {red, green, blue}."""
    digits = value.strip().lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    if not re.fullmatch(r"[0-9A-Fa-f]{6}", digits):
        raise ConnectorError(
            f"colorPicker {value!r} is not a hex colour; use #RRGGBB, e.g. #FFFFFF",
            code="INVALID_INPUT",
        )
    red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return {"red": red, "green": green, "blue": blue}


async def _selfie_id(client: PingOneClient, inputs: dict[str, Any]) -> str:
    if inputs.get("selfieId"):
        return str(inputs["selfieId"])
    response = await _verified_data(client, inputs, ["SELFIE"])
    selfies = [
        i for i in embedded_items(response.body, "verifiedData") if i.get("type") == "SELFIE"
    ]
    if not selfies:
        raise PingOneError(
            f"transaction {inputs['transactionId']} has no SELFIE verified data to replace the "
            "background of; give selfieId, or run this after the verification",
            code="NOT_FOUND",
            status_code=404,
        )
    return str(selfies[0]["id"])


@connector.capability(title="Replace Background")
async def backgroundReplacer(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Replace the background of the selfie with a colour, cropped to an aspect ratio."""
    client = client_of(ctx)
    body: dict[str, Any] = {}
    if inputs.get("colorPicker"):
        body["backgroundColor"] = hex_to_rgb(inputs["colorPicker"])
    if inputs.get("aspectWidth") or inputs.get("aspectHeight"):
        body["aspectRatio"] = {
            "aspectHeight": int(inputs.get("aspectHeight") or 1),
            "aspectWidth": int(inputs.get("aspectWidth") or 1),
        }
    selfie = await _selfie_id(client, inputs)
    response = await client.post(
        transaction_path(client, inputs, "verifiedData", selfie),
        json=body,
        content_type=BACKGROUND_CONTENT_TYPE,
        idempotent=True,  # the same colour and ratio give the same image: safe to repeat
    )
    return response.output("backgroundReplace")

"""Documents, processing, verifiedData (with background replacement) and metaData routes."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, check_range, invalid_data, invalid_request, not_found
from .http import collection, json_body, json_response, media_type
from .machine import (
    accepted_types,
    decode_value,
    live_documents,
    missing,
    process,
    record_event,
    retained,
    settled_status,
)
from .state import iso, new_id
from .transactions import get_transaction, policy_of, tx_href

if TYPE_CHECKING:
    from .box import Box, Handler

__all__ = ["PROCESS_TYPE", "REPLACE_BACKGROUND_TYPE", "ROUTES", "submit_document"]

PROCESS_TYPE = "application/vnd.pingidentity.documents.process+json"
REPLACE_BACKGROUND_TYPE = "application/vnd.pingidentity.replace.background+json"
VERIFIED_DATA_RETENTION = 30 * 60
_TX = "/users/{userId}/verifyTransactions/{txId}"


def _render_doc(request: Request, tx: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    tx_url = tx_href(request, tx)
    body = {
        "_links": {
            "self": {"href": f"{tx_url}/documents/{doc['id']}"},
            "verifyTransaction": {"href": tx_url},
        },
        "id": doc["id"],
        "environment": {"id": tx["env"]},
        "user": {"id": tx["userId"]},
        "verifyTransaction": {"id": tx["id"]},
        "type": doc["type"],
        "value": doc["value"],
        "status": doc["status"],
        "source": {"provider": doc["source"]},
        "retry": {"attempt": doc["attempt"]},
        "createdAt": iso(doc["createdAt"]),
        "updatedAt": iso(doc["updatedAt"]),
    }
    if doc.get("voiceSampleIndex") is not None:
        body["voiceSampleIndex"] = doc["voiceSampleIndex"]
    return body


def _ensure_open(sandbox: Box, tx: dict[str, Any]) -> dict[str, Any]:
    """The transaction's policy; 400 REQUEST_FAILED once it is settled (takes no documents)."""
    policy = policy_of(sandbox, tx)
    settled = settled_status(sandbox, tx, policy)
    if settled is not None:
        status = settled["status"]
        raise ApiError(
            400,
            "REQUEST_FAILED",
            f"The verify transaction is {status}; it no longer accepts documents.",
            [{"code": "INVALID_VALUE", "target": "transactionStatus", "message": status}],
        )
    return policy


def _check(tx: dict[str, Any], policy: dict[str, Any], doc_type: Any, value: Any) -> None:
    """400 INVALID_DATA for a type the transaction does not take or a value no provider reads."""
    from .verification import DocumentError, check_document

    if not isinstance(doc_type, str) or doc_type not in accepted_types(tx, policy):
        raise invalid_data("type", "invalid document type for transaction")
    data = decode_value(doc_type, value)
    try:
        check_document(doc_type, data, requirements=tx["requirements"], policy=policy)
    except DocumentError as exc:
        raise invalid_data(exc.target, str(exc)) from None


def submit_document(
    sandbox: Box,
    tx: dict[str, Any],
    body: dict[str, Any],
    source: str,
    client: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Validate and store a document for the current attempt (one per type and index)."""
    policy = _ensure_open(sandbox, tx)
    doc_type = body.get("type")
    _check(tx, policy, doc_type, body.get("value"))
    index = body.get("voiceSampleIndex")
    now = sandbox.now()
    for old in live_documents(sandbox, tx):
        if old["type"] == doc_type and old.get("voiceSampleIndex") == index:
            tx["documents"].remove(old["id"])
            sandbox.store.delete("doc", old["id"])
    doc = {
        "id": new_id(),
        "txId": tx["id"],
        "type": doc_type,
        "value": body["value"],
        "voiceSampleIndex": index,
        "status": "COLLECTED",
        "source": source,
        "client": client,
        "attempt": tx["attempt"],
        "createdAt": now,
        "updatedAt": now,
    }
    sandbox.store.put("doc", doc["id"], doc)
    tx["documents"].append(doc["id"])
    record_event(tx, now, "DOCUMENT_SUBMITTED", documentType=doc_type, source=source)
    tx["updatedAt"] = now
    sandbox.store.put("tx", tx["id"], tx)
    return doc


def _get_doc(sandbox: Box, request: Request, tx: dict[str, Any]) -> dict[str, Any]:
    doc_id = request.path_params["docId"]
    doc = sandbox.store.get("doc", doc_id)
    if doc is None or doc["txId"] != tx["id"] or not retained(doc, sandbox.now()):
        raise not_found(f"Document {doc_id!r} was not found (documents are kept 30 minutes).")
    return doc


def _type_filter(request: Request) -> set[str] | None:
    raw = request.query_params.get("type")
    return {t.strip().upper() for t in raw.split(",") if t.strip()} if raw else None


async def list_documents(sandbox: Box, request: Request) -> Response:
    """GET .../documents: this attempt's documents and `previousAttempts`."""
    tx = get_transaction(sandbox, request)
    wanted = _type_filter(request)
    now = sandbox.now()
    latest = tx.get("final") or tx["attempt"]
    current: list[dict[str, Any]] = []
    previous: list[dict[str, Any]] = []
    for doc_id in tx["documents"]:
        doc = sandbox.store.get("doc", doc_id)
        if doc is None or not retained(doc, now):
            continue
        if wanted and doc["type"].upper() not in wanted:
            continue
        target = current if doc["attempt"] == latest else previous
        target.append(_render_doc(request, tx, doc))
    body = collection(str(request.url), "documents", current, previousAttempts=previous)
    return json_response(body)


async def create_document(sandbox: Box, request: Request) -> Response:
    """POST .../documents: submit a document, or process them (vendor type)."""
    tx = get_transaction(sandbox, request)
    if media_type(request) == PROCESS_TYPE:
        return await _process(sandbox, request, tx)
    doc = submit_document(sandbox, tx, await json_body(request), "AUTHENTICATED_CLIENT")
    return json_response(_render_doc(request, tx, doc), 201)


async def _process(sandbox: Box, request: Request, tx: dict[str, Any]) -> Response:
    policy = _ensure_open(sandbox, tx)
    docs = live_documents(sandbox, tx)
    still = missing(sandbox, tx, policy, docs)
    if not docs or still:
        raise invalid_data(
            "documents",
            f"Not every required document was submitted; missing: {', '.join(still) or 'all'}",
            "REQUIRED_VALUE",
        )
    process(sandbox, tx, policy)
    items = [_render_doc(request, tx, d) for d in docs]
    return json_response(collection(tx_href(request, tx) + "/documents", "documents", items))


async def read_document(sandbox: Box, request: Request) -> Response:
    """GET .../documents/{docId}."""
    tx = get_transaction(sandbox, request)
    return json_response(_render_doc(request, tx, _get_doc(sandbox, request, tx)))


async def update_document(sandbox: Box, request: Request) -> Response:
    """PUT .../documents/{docId}: replace a document's value."""
    tx = get_transaction(sandbox, request)
    doc = _get_doc(sandbox, request, tx)
    policy = _ensure_open(sandbox, tx)
    body = await json_body(request)
    doc_type = body.get("type", doc["type"])
    _check(tx, policy, doc_type, body.get("value"))
    doc.update(type=doc_type, value=body["value"], updatedAt=sandbox.now(), status="COLLECTED")
    sandbox.store.put("doc", doc["id"], doc)
    return json_response(_render_doc(request, tx, doc))


async def delete_document(sandbox: Box, request: Request) -> Response:
    """DELETE .../documents/{docId}."""
    tx = get_transaction(sandbox, request)
    doc = _get_doc(sandbox, request, tx)
    tx["documents"].remove(doc["id"])
    sandbox.store.delete("doc", doc["id"])
    sandbox.store.put("tx", tx["id"], tx)
    return Response(status_code=204)


# --- verifiedData and metaData ------------------------------------------------------------


def _attempts(sandbox: Box, tx: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Attempts whose decision is visible and (for verifiedData) still retained."""
    now = sandbox.now()
    found = []
    for record in tx["attempts"]:
        if now < record["decidedAt"]:
            continue
        if key == "verifiedData" and now >= record["decidedAt"] + VERIFIED_DATA_RETENTION:
            continue
        found.append(record)
    return found


def _select_attempts(request: Request, records: list[dict[str, Any]]) -> tuple[list, list]:
    raw = (request.query_params.get("attempt") or "ALL").upper()
    if raw not in ("ALL", "LATEST", "1", "2", "3", "4"):
        raise invalid_data("attempt", "attempt must be ALL, LATEST or 1 to 4", "INVALID_PARAMETER")
    if not records:
        return [], []
    if raw == "LATEST":
        return [records[-1]], []
    if raw == "ALL":
        return [records[-1]], records[:-1]
    return [r for r in records if r["attempt"] == int(raw)], []


def _item(
    request: Request, tx: dict[str, Any], kind: str, item: dict[str, Any], full: bool
) -> dict[str, Any]:
    href = f"{tx_href(request, tx)}/{kind}/{item['id']}"
    body = {"_links": {"self": {"href": href}}, **item, "createdAt": iso(item["createdAt"])}
    if not full:
        body = {k: body[k] for k in ("_links", "id", "type", "retry", "createdAt")}
    return body


def _list(kind: str, full_without_filter: bool) -> Handler:
    async def handler(sandbox: Box, request: Request) -> Response:
        tx = get_transaction(sandbox, request)
        wanted = _type_filter(request)
        latest, earlier = _select_attempts(request, _attempts(sandbox, tx, kind))
        full = full_without_filter or wanted is not None

        def pick(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [
                _item(request, tx, kind, item, full)
                for record in records
                for item in record[kind]
                if wanted is None or item["type"].upper() in wanted
            ]

        body = collection(str(request.url), kind, pick(latest), previousAttempts=pick(earlier))
        return json_response(body)

    return handler


def _find_item(
    sandbox: Box, request: Request, kind: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    tx = get_transaction(sandbox, request)
    item_id = request.path_params["itemId"]
    for record in _attempts(sandbox, tx, kind):
        for item in record[kind]:
            if item["id"] == item_id:
                return tx, record, item
    raise not_found(f"{kind} item {item_id!r} was not found (verified data is kept 30 minutes).")


async def read_verified_data(sandbox: Box, request: Request) -> Response:
    """GET .../verifiedData/{id}: one item with its data."""
    tx, _, item = _find_item(sandbox, request, "verifiedData")
    return json_response(_item(request, tx, "verifiedData", item, True))


async def replace_background(sandbox: Box, request: Request) -> Response:
    """POST .../verifiedData/{selfieId}: the selfie on a new background colour."""
    from .verification import replace_background as replace

    # The vendor content type is the only POST served here: check it first (415).
    body = await json_body(request, REPLACE_BACKGROUND_TYPE)
    _, _, item = _find_item(sandbox, request, "verifiedData")
    if item["type"] not in ("SELFIE", "CROPPED_PORTRAIT"):
        raise invalid_data("type", "the background can only be replaced on a SELFIE")
    rgb = _color(body.get("backgroundColor"))
    ratio = _aspect(body.get("aspectRatio"))
    image = base64.b64decode((item.get("data") or {}).get("IMAGE", ""))
    try:
        data, fmt = replace(image, rgb=rgb, aspect_ratio=ratio)
    except ValueError as exc:
        raise invalid_request(f"The selfie could not be processed: {exc}") from None
    result = {
        "id": item["id"],
        "type": item["type"],
        "data": {"IMAGE": base64.b64encode(data).decode(), "FORMAT": fmt},
        "createdAt": iso(sandbox.now()),
    }
    return json_response(result)


def _color(raw: Any) -> tuple[int, int, int]:
    if not isinstance(raw, dict):
        raise invalid_data(
            "backgroundColor", "backgroundColor {red, green, blue} is required", "REQUIRED_VALUE"
        )
    for key in ("red", "green", "blue"):
        check_range(raw.get(key), 0, 255, f"backgroundColor.{key}")
    return raw["red"], raw["green"], raw["blue"]


def _aspect(raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid_data("aspectRatio", "aspectRatio must be {aspectWidth, aspectHeight}")
    for key in ("aspectWidth", "aspectHeight"):
        check_range(raw.get(key), 1, 1000, f"aspectRatio.{key}")
    return f"{raw['aspectWidth']}:{raw['aspectHeight']}"


async def read_metadata(sandbox: Box, request: Request) -> Response:
    """GET .../metaData/{id}."""
    tx, _, item = _find_item(sandbox, request, "metaData")
    return json_response(_item(request, tx, "metaData", item, True))


async def delete_metadata(sandbox: Box, request: Request) -> Response:
    """DELETE .../metaData/{id}."""
    tx, record, item = _find_item(sandbox, request, "metaData")
    record["metaData"].remove(item)
    sandbox.store.put("tx", tx["id"], tx)
    return Response(status_code=204)


ROUTES = [
    (_TX + "/documents", list_documents, ["GET"]),
    (_TX + "/documents", create_document, ["POST"]),
    (_TX + "/documents/{docId}", read_document, ["GET"]),
    (_TX + "/documents/{docId}", update_document, ["PUT"]),
    (_TX + "/documents/{docId}", delete_document, ["DELETE"]),
    (_TX + "/verifiedData", _list("verifiedData", False), ["GET"]),
    (_TX + "/verifiedData/{itemId}", read_verified_data, ["GET"]),
    (_TX + "/verifiedData/{itemId}", replace_background, ["POST"]),
    (_TX + "/metaData", _list("metaData", True), ["GET"]),
    (_TX + "/metaData/{itemId}", read_metadata, ["GET"]),
    (_TX + "/metaData/{itemId}", delete_metadata, ["DELETE"]),
]

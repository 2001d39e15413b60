"""The verify transaction's status machine, evaluated lazily from the clock on every read.

Timing rules (all against the sandbox clock, so a VirtualClock drives them in tests):

* REQUESTED at creation; INITIATED once the user opens the web app (its "Start" button);
  IN_PROGRESS after the first document; PARTIAL when one verification type has all its
  documents and another still misses some.
* When every required document is in, the data is processed (at once for the web app; on the
  process call for documents sent through the API). The decision becomes visible
  `processing_seconds` later (config, default 0); until then the status is IN_PROGRESS.
* A failed attempt with retries left (policy `governmentId.retry` / `liveness.retry`) starts the
  next attempt: the status returns to INITIATED and earlier results become previous attempts.
* `expiresAt` = creation + policy `transaction.timeout`. Past it, a transaction without a
  decision is FAIL with `TRANSACTION_TIMED_OUT` in `verificationStatus`; data submitted in time
  is still decided. Data collection is also limited: `transaction.dataCollection.timeout` from
  the moment the user began (INITIATED), with the same marker.
* An administrator's PUT sets APPROVED_MANUALLY / APPROVED_NO_REQUEST, which is final.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .errors import invalid_data
from .policies import timeout_seconds
from .state import iso, new_id

if TYPE_CHECKING:
    from .box import Box

__all__ = [
    "TERMINAL",
    "accepted_types",
    "decode_value",
    "drop_transaction",
    "live_documents",
    "missing",
    "process",
    "record_event",
    "retained",
    "settled_status",
    "transaction_status",
]

TERMINAL = frozenset(
    {"SUCCESS", "FAIL", "APPROVED_MANUALLY", "APPROVED_NO_REQUEST", "NOT_REQUIRED"}
)
TIMED_OUT = "TRANSACTION_TIMED_OUT"
DOCUMENT_RETENTION = 30 * 60
_CHECKS = {
    "GOVERNMENT_ID": ("governmentId", "DOCUMENT_AUTHENTICATION"),
    "FACIAL_COMPARISON": ("facialComparison", "FACIAL_COMPARISON"),
    "LIVENESS": ("liveness", "LIVENESS"),
    "EMAIL": ("email", None),
    "PHONE": ("phone", None),
}
_PROVIDERS = {
    "LIVENESS": "IDRND",
    "FACIAL_COMPARISON": "AMAZON",
    "BIOGRAPHIC_MATCH": "BIOGRAPHIC_MATCHER",
    "DOCUMENT_AUTHENTICATION": "MITEK",
}


def _enabled(policy: dict[str, Any], section: str) -> str | None:
    value = (policy.get(section) or {}).get("verify", "DISABLED")
    return None if value == "DISABLED" else str(value)


def verification_types(policy: dict[str, Any]) -> dict[str, str]:
    """Verification type -> REQUIRED / OPTIONAL, for the checks the policy enables."""
    found = {}
    for name, (section, _) in _CHECKS.items():
        level = _enabled(policy, section)
        if level:
            found[name] = level
    return found


def accepted_types(tx: dict[str, Any], policy: dict[str, Any]) -> list[str]:
    """The document types this transaction accepts (from the verification rules), sorted."""
    from .verification import accepted_types as accepted

    return sorted(accepted(tx["requirements"], policy))


def _kind(doc_type: str) -> set[str]:
    """The verification types a document (or a missing-document name) belongs to."""
    if "Selfie" in doc_type:
        return {"FACIAL_COMPARISON", "LIVENESS"}
    if "Phone" in doc_type:
        return {"PHONE"}
    if "Email" in doc_type:
        return {"EMAIL"}
    return {"GOVERNMENT_ID"}


def decode_value(doc_type: str, value: Any, target: str = "value") -> bytes | str:
    """A document's payload: text for text types, bytes decoded from base64 otherwise."""
    from .verification.documents import TEXT_TYPES  # late: the verification rules load Pillow

    if not isinstance(value, str) or not value:
        raise invalid_data(target, f"{target} is required: base64 JPEG or text", "REQUIRED_VALUE")
    if doc_type in TEXT_TYPES or doc_type.endswith(" Code"):
        return value
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_data(target, f"{doc_type} must be a base64-encoded JPEG image") from None


def retained(doc: dict[str, Any], now: float) -> bool:
    """Whether a document is still within its 30-minute retention at `now`."""
    return now < doc["updatedAt"] + DOCUMENT_RETENTION


def live_documents(sandbox: Box, tx: dict[str, Any]) -> list[dict[str, Any]]:
    """The current attempt's documents still within their 30-minute retention."""
    now = sandbox.now()
    found = []
    for doc_id in tx["documents"]:
        doc = sandbox.store.get("doc", doc_id)
        if doc and doc["attempt"] == tx["attempt"] and retained(doc, now):
            found.append(doc)
    return found


def drop_transaction(sandbox: Box, tx: dict[str, Any]) -> None:
    """Delete a transaction and its documents."""
    for doc_id in tx["documents"]:
        sandbox.store.delete("doc", doc_id)
    sandbox.store.delete("tx", tx["id"])


def _submitted(docs: list[dict[str, Any]], decode: bool = True) -> list[Any]:
    """The documents as the verification rules take them; `decode=False` keeps the API's
    base64 `value` (SubmittedDocument accepts it and the rules decode it when they read it)."""
    from .verification import SubmittedDocument

    return [
        SubmittedDocument(
            type=d["type"],
            data=decode_value(d["type"], d["value"]) if decode else d["value"],
            submitted_at=datetime.fromtimestamp(d["updatedAt"], UTC),
            id=d["id"],
            source=d.get("client"),
        )
        for d in docs
    ]


def missing(
    sandbox: Box,
    tx: dict[str, Any],
    policy: dict[str, Any],
    docs: list[dict[str, Any]] | None = None,
) -> list[str]:
    """The documents still needed before processing (from the verification rules).

    `docs` is the transaction's live_documents when the caller has them already.
    """
    from .verification import missing_documents

    if docs is None:
        docs = live_documents(sandbox, tx)
    # The rules read only the documents' types here: the values are not decoded.
    return missing_documents(_submitted(docs, decode=False), tx["requirements"], policy)


def _stamp(
    items: list[dict[str, Any]], attempt: int, now: float, meta: bool
) -> list[dict[str, Any]]:
    stamped = []
    for item in items:
        entry = {"id": new_id(), **item, "retry": {"attempt": attempt}, "createdAt": now}
        if meta:
            entry.setdefault("provider", _PROVIDERS.get(item["type"], "SANDBOX"))
        stamped.append(entry)
    return stamped


def _end_user_client(tx: dict[str, Any], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if tx["clients"] and not any(i["type"] == "END_USER_CLIENT" for i in items):
        items = [*items, {"type": "END_USER_CLIENT", "data": {"sources": tx["clients"]}}]
    return items


def process(sandbox: Box, tx: dict[str, Any], policy: dict[str, Any]) -> dict[str, Any]:
    """Decide the current attempt from its documents; records the attempt and maybe retries."""
    from .verification import evaluate

    now = sandbox.now()
    docs = live_documents(sandbox, tx)
    try:
        # A dataCollectionOnly policy is the rules' business too: SUCCESS, no checks, but the
        # verified data (images, the ID's fields) is kept as for any other decision.
        result = evaluate(
            _submitted(docs),
            requirements=tx["requirements"],
            policy=policy,
            now=sandbox.clock.utcnow(),
        )
    except ValueError as exc:
        target = getattr(exc, "target", "value")
        raise invalid_data(target, f"A document could not be read: {exc}") from None
    status, messages = result.status, list(result.provider_messages)
    verified, meta = list(result.verified_data), list(result.metadata)
    record = {
        "attempt": tx["attempt"],
        "status": status,
        "providerMessages": messages,
        "decidedAt": now + sandbox.config.processing_seconds,
        "verifiedData": _stamp(_end_user_client(tx, verified), tx["attempt"], now, meta=False),
        "metaData": _stamp(meta, tx["attempt"], now, meta=True),
    }
    tx["attempts"].append(record)
    record_event(tx, now, "VERIFICATION_PROCESSED", status=status, attempt=record["attempt"])
    for doc in docs:
        doc["status"] = "PROCESSED"
        sandbox.store.put("doc", doc["id"], doc)
    if status == "FAIL" and tx["attempt"] < tx["maxAttempts"]:
        tx["attempt"] += 1
    else:
        tx["final"] = record["attempt"]
    tx["updatedAt"] = now
    sandbox.store.put("tx", tx["id"], tx)
    return record


def record_event(tx: dict[str, Any], now: float, kind: str, **data: Any) -> None:
    """Append a metrics event (`appEvents`) to the transaction; the caller stores the tx."""
    tx.setdefault("events", []).append({"id": new_id(), "type": kind, "at": now, "data": data})


def _final(tx: dict[str, Any]) -> dict[str, Any] | None:
    if tx.get("final") is None:
        return None
    return next(a for a in tx["attempts"] if a["attempt"] == tx["final"])


def _decided_types(policy: dict[str, Any], record: dict[str, Any]) -> dict[str, str]:
    by_meta = {m["type"]: m.get("status") for m in record["metaData"]}
    found = {}
    for name in verification_types(policy):
        meta_type = _CHECKS[name][1]
        value = by_meta.get(meta_type) if meta_type else None
        found[name] = str(value) if value in ("SUCCESS", "FAIL") else record["status"]
    return found


def _collecting(
    sandbox: Box, tx: dict[str, Any], policy: dict[str, Any]
) -> tuple[str, dict[str, str]]:
    types = verification_types(policy)
    docs = live_documents(sandbox, tx)
    if not docs:
        status = "INITIATED" if tx.get("initiatedAt") is not None else "REQUESTED"
        return status, dict(types)
    have = set().union(*(_kind(d["type"]) for d in docs))
    lacking = (
        set().union(*(_kind(m) for m in missing(sandbox, tx, policy, docs))) if types else set()
    )
    states = {}
    for name, level in types.items():
        if name in have and name not in lacking:
            states[name] = "COLLECTED"
        else:
            states[name] = "IN_PROGRESS" if name in have else level
    complete = any(v == "COLLECTED" for v in states.values())
    partial = complete and any(v != "COLLECTED" for v in states.values())
    return ("PARTIAL" if partial else "IN_PROGRESS"), states


def _timed_out(tx: dict[str, Any], policy: dict[str, Any], now: float) -> str | None:
    if now >= tx["expiresAt"]:
        return "The verify transaction expired before the verification was completed."
    started = tx.get("initiatedAt")
    collect = ((policy.get("transaction") or {}).get("dataCollection") or {}).get("timeout")
    if started is not None and collect and now >= started + timeout_seconds(collect):
        return "The data collection time ran out before all documents were submitted."
    return None


def transaction_status(sandbox: Box, tx: dict[str, Any], policy: dict[str, Any]) -> dict[str, Any]:
    """`transactionStatus` as of the sandbox clock's now."""
    settled = settled_status(sandbox, tx, policy)
    if settled is not None:
        return settled
    status, states = _collecting(sandbox, tx, policy)
    previous = tx["attempts"][-1]["providerMessages"] if tx["attempts"] else []
    return _status(status, states, previous)


def settled_status(
    sandbox: Box, tx: dict[str, Any], policy: dict[str, Any]
) -> dict[str, Any] | None:
    """`transactionStatus` once documents no longer change it (decided, approved manually or
    timed out), else None: the transaction is still collecting and takes documents."""
    now = sandbox.now()
    manual = tx.get("manual")
    record = _final(tx)
    if record is not None:
        if now < record["decidedAt"]:
            states = dict.fromkeys(verification_types(policy), "IN_PROGRESS")
            return _status(manual or "IN_PROGRESS", states, [])
        return _status(
            manual or record["status"], _decided_types(policy, record), record["providerMessages"]
        )
    if manual:
        return _status(manual, dict(verification_types(policy)), [])
    why = _timed_out(tx, policy, now)
    if why:
        states = dict.fromkeys(verification_types(policy) or ["TRANSACTION"], TIMED_OUT)
        return _status("FAIL", states, [why])
    return None


def _status(status: str, states: dict[str, str], messages: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "verificationStatus": states}
    if messages:
        body["providerMessagesList"] = list(messages)
    return body


def timestamps(tx: dict[str, Any]) -> dict[str, str]:
    """createdAt / updatedAt / expiresAt rendered."""
    return {
        "createdAt": iso(tx["createdAt"]),
        "updatedAt": iso(tx["updatedAt"]),
        "expiresAt": iso(tx["expiresAt"]),
    }

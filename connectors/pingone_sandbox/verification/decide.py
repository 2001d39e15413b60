"""The decision: run the policy's checks on the submitted documents and say SUCCESS or FAIL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PIL import Image

from ._jpeg import DocumentError, as_bytes, decode_jpeg, read_jpeg
from .documents import (
    DL_TYPES,
    ID_CARD_TYPES,
    PASSPORT_TYPES,
    SELFIE,
    IdReading,
    SubmittedDocument,
    b64,
    check_mode,
    latest,
    read_id,
)
from .matching import CONFIDENCE_RANK, FIELDS, best_match
from .similarity import face_similarity, grain, replay_distance

__all__ = ["Evaluation", "evaluate", "missing_documents"]

# Policy threshold -> minimum face similarity (0..100) and liveness probability (0..1).
FACE_THRESHOLDS = {"LOW": 94.0, "MEDIUM": 95.5, "HIGH": 97.0}
LIVENESS_THRESHOLDS = {"LOW": 0.5, "MEDIUM": 0.7, "HIGH": 0.9}
MIN_SELFIE_SIDE = 240  # pixels
FULL_GRAIN = 2.0  # grey levels of sensor grain at which liveness gets full marks
REPLAY_DISTANCE = 8.0  # grey levels: a selfie closer than this to the ID portrait is a replay
# Requirement keys: the API's snake_case, and camelCase for callers that send it.
_ALIASES = {"givenName": "given_name", "familyName": "family_name", "birthDate": "birth_date"}
# Which GOVERNMENT_ID field each biographic requirement is compared with.
_GOV_FIELD = {
    "given_name": "firstName",
    "family_name": "lastName",
    "name": "fullName",
    "address": "address",
    "birth_date": "birthDate",
}


@dataclass
class Evaluation:
    """The outcome of processing a transaction's documents."""

    status: str  # "SUCCESS" | "FAIL"
    provider_messages: list[str]
    verified_data: list[dict[str, Any]]
    metadata: list[dict[str, Any]]
    verification_status: dict[str, str] = field(default_factory=dict)  # per check: SUCCESS/FAIL


@dataclass
class _Run:
    """Working state of one evaluation."""

    policy: dict[str, Any]
    messages: list[str] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    failed_required: bool = False

    def record(
        self, check: str, section: str, ok: bool, item: dict[str, Any], why: str = ""
    ) -> None:
        """Note one check's result; a failed REQUIRED check fails the transaction."""
        status = "SUCCESS" if ok else "FAIL"
        self.metadata.append({"type": check, "status": status, **item})
        self.statuses[check] = status
        if not ok:
            required = check_mode(self.policy, section) == "REQUIRED"
            self.messages.append(why if required else f"{why} (optional check; not failing)")
            self.failed_required |= required

    def selfie_unreadable(self, exc: DocumentError) -> None:
        """Note a selfie that cannot be read: a failure if a selfie check is REQUIRED."""
        self.messages.append(str(exc))
        self.failed_required |= _selfie_required(self.policy)


def _selfie_required(policy: dict[str, Any]) -> bool:
    """Whether facial comparison or liveness is REQUIRED (either needs a selfie)."""
    return "REQUIRED" in (check_mode(policy, "facialComparison"), check_mode(policy, "liveness"))


def missing_documents(
    documents: list[SubmittedDocument], requirements: dict[str, Any], policy: dict[str, Any]
) -> list[str]:
    """What still has to be submitted before processing (an empty list means ready)."""
    have = {d.type for d in documents}
    missing: list[str] = []
    if check_mode(policy, "governmentId") == "REQUIRED" and not any(
        t in have for t in PASSPORT_TYPES
    ):
        if any(t in have for t in ID_CARD_TYPES):
            front, back, code = ID_CARD_TYPES
        else:
            front, back, code = DL_TYPES
        missing += [front] if front not in have else []
        missing += [back] if back not in have and code not in have else []
    if _selfie_required(policy) and SELFIE not in have:
        missing.append(SELFIE)
    return missing


def evaluate(
    documents: list[SubmittedDocument],
    *,
    requirements: dict[str, Any],
    policy: dict[str, Any],
    now: datetime,
) -> Evaluation:
    """Decide a transaction from its documents, requirements and Verify policy (deterministic)."""
    run = _Run(policy)
    docs = latest(documents)
    reading = (
        read_id(docs, today=now.date())
        if check_mode(policy, "governmentId") != "DISABLED"
        else None
    )
    selfie_raw = _selfie_bytes(docs, run)
    verified = _verified_data(documents, reading, selfie_raw)
    if (policy.get("transaction") or {}).get("dataCollectionOnly"):
        return Evaluation("SUCCESS", ["data collection only: no checks run"], verified, [], {})
    selfie = _selfie(selfie_raw, run)
    for problem in missing_documents(documents, requirements, policy):
        run.failed_required = True
        run.messages.append(f"required document missing: {problem}")
    if reading is not None:
        _document_authentication(run, reading, now)
        _biographic_match(run, reading, _requirements(requirements))
    reference = reading.portrait if reading else _reference_selfie(requirements, run)
    if selfie is not None and check_mode(policy, "facialComparison") != "DISABLED":
        _facial_comparison(run, selfie, reference)
    if selfie is not None and check_mode(policy, "liveness") != "DISABLED":
        _liveness(run, selfie, reading.portrait if reading else None)
    status = "FAIL" if run.failed_required else "SUCCESS"
    return Evaluation(status, run.messages, verified, run.metadata, run.statuses)


def _requirements(requirements: dict[str, Any]) -> dict[str, Any]:
    return {_ALIASES.get(k, k): v for k, v in requirements.items()}


def _selfie_bytes(docs: dict[str, SubmittedDocument], run: _Run) -> bytes | None:
    """The submitted selfie's bytes (verifiedData keeps them even if they are no JPEG)."""
    if SELFIE not in docs:
        return None
    try:
        return as_bytes(docs[SELFIE].data, what=SELFIE)
    except DocumentError as exc:
        run.selfie_unreadable(exc)
        return None


def _selfie(raw: bytes | None, run: _Run) -> Image.Image | None:
    if raw is None:
        return None
    try:
        return decode_jpeg(raw, what=SELFIE)
    except DocumentError as exc:
        run.selfie_unreadable(exc)
        return None


def _reference_selfie(requirements: dict[str, Any], run: _Run) -> Image.Image | None:
    """`requirements.referenceSelfie.value`: the face to compare with when there is no ID."""
    value = (requirements.get("referenceSelfie") or {}).get("value")
    if not value:
        return None
    try:
        return read_jpeg(value, what="referenceSelfie")[1]
    except DocumentError as exc:
        run.messages.append(str(exc))
        run.failed_required = True
        return None


def _document_authentication(run: _Run, reading: IdReading, now: datetime) -> None:
    checks = list(reading.checks)
    expiry = reading.expiry
    expired = expiry is not None and expiry < now.date()
    checks.append({"name": "Expiration", "judgement": "Expired" if expired else "Authentic"})
    why = "; ".join(reading.errors)
    fail_expired = (run.policy.get("governmentId") or {}).get("failExpiredId", True) is not False
    if expired and fail_expired:
        why = "; ".join(p for p in (why, f"government ID expired on {expiry}") if p)
    item = {
        "provider": "MITEK",
        "data": {"mitekVerifications": checks, "documentType": reading.kind},
    }
    run.record("DOCUMENT_AUTHENTICATION", "governmentId", not why, item, why)


def _biographic_match(run: _Run, reading: IdReading, requirements: dict[str, Any]) -> None:
    rules = run.policy.get("identityRecordMatching") or {}
    results, failures = [], []
    for name in FIELDS:
        spec, gallery = requirements.get(name), reading.data.get(_GOV_FIELD[name])
        if not isinstance(spec, dict) or not gallery:
            continue
        # Here the ID is the trusted side: the user's entries are the options to try against it.
        options = (
            [spec["value"]] if isinstance(spec.get("value"), str) else spec.get("options") or []
        )
        match = best_match(name, gallery, {"options": [str(o) for o in options]}, target=name)
        rule = rules.get(name) or {}
        threshold = str(rule.get("threshold", "MEDIUM")).upper()
        results.append(
            {"identifier": name, "match": match.confidence, "score": round(match.score, 4)}
        )
        below = CONFIDENCE_RANK[match.confidence] < CONFIDENCE_RANK.get(threshold, 1)
        if below and rule.get("fieldRequired", True):
            failures.append(f"{name} matched {match.confidence}, policy requires {threshold}")
    if results:
        item = {"provider": "BIOGRAPHIC_MATCHER", "data": {"biographic_match_results": results}}
        why = "biographic data does not match the ID: " + "; ".join(failures)
        run.record("BIOGRAPHIC_MATCH", "governmentId", not failures, item, why)


def _threshold(run: _Run, section: str) -> str:
    return str((run.policy.get(section) or {}).get("threshold", "MEDIUM")).upper()


def _facial_comparison(run: _Run, selfie: Image.Image, reference: Image.Image | None) -> None:
    threshold = _threshold(run, "facialComparison")
    if reference is None:
        why = "no face to compare the selfie with (no readable ID portrait or referenceSelfie)"
        item = {"provider": "AMAZON", "data": {"similarity": 0.0, "threshold": threshold}}
        run.record("FACIAL_COMPARISON", "facialComparison", False, item, why)
        return
    minimum = FACE_THRESHOLDS.get(threshold, FACE_THRESHOLDS["MEDIUM"])
    similarity = round(100 * face_similarity(selfie, reference), 2)
    item = {
        "provider": "AMAZON",
        "data": {"similarity": similarity, "threshold": threshold, "minimumSimilarity": minimum},
    }
    why = f"selfie does not match the ID portrait (similarity {similarity} < {minimum}"
    why += f" for {threshold})"
    run.record("FACIAL_COMPARISON", "facialComparison", similarity >= minimum, item, why)


def _liveness(run: _Run, selfie: Image.Image, portrait: Image.Image | None) -> None:
    size_ok = min(selfie.size) >= MIN_SELFIE_SIDE
    texture = grain(selfie)
    replay = portrait is not None and replay_distance(selfie, portrait) < REPLAY_DISTANCE
    reasons = []
    if not size_ok:
        reasons.append(f"selfie smaller than {MIN_SELFIE_SIDE}x{MIN_SELFIE_SIDE} pixels")
    if texture < FULL_GRAIN / 2:
        reasons.append(f"no camera sensor grain ({texture:.2f} grey levels)")
    if replay:
        reasons.append("selfie is a copy of the ID portrait (replay)")
    probability = 0.0 if replay or not size_ok else round(min(1.0, texture / FULL_GRAIN), 4)
    threshold = _threshold(run, "liveness")
    minimum = LIVENESS_THRESHOLDS.get(threshold, LIVENESS_THRESHOLDS["MEDIUM"])
    data = {"probability": probability, "threshold": threshold, "reasons": reasons}
    why = f"liveness failed (probability {probability} < {minimum}): " + "; ".join(reasons)
    run.record(
        "LIVENESS", "liveness", probability >= minimum, {"provider": "IDRND", "data": data}, why
    )


def _verified_data(
    documents: list[SubmittedDocument], reading: IdReading | None, selfie: bytes | None
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if reading is not None:
        if reading.data:
            items.append({"type": "GOVERNMENT_ID", "data": dict(reading.data)})
        if reading.front:
            items.append({"type": "FRONT_IMAGE", "data": {"IMAGE": b64(reading.front)}})
        if reading.back:
            items.append({"type": "BACK_IMAGE", "data": {"IMAGE": b64(reading.back)}})
        if reading.barcode:
            items.append(
                {"type": "BARCODE", "data": {"BARCODE": reading.barcode, "FORMAT": "PDF417"}}
            )
        for kind, raw in reading.crops.items():
            items.append({"type": kind, "data": {"IMAGE": b64(raw)}})
    if selfie is not None:
        items.append({"type": "SELFIE", "data": {"IMAGE": b64(selfie)}})
    sources = [d.source for d in sorted(documents, key=lambda d: d.submitted_at) if d.source]
    unique = [s for i, s in enumerate(sources) if s not in sources[:i]]
    if unique:
        items.append({"type": "END_USER_CLIENT", "data": {"sources": unique}})
    return items

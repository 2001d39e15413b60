"""Submitted documents: readable type names, submission checks, reading an ID like a provider."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from PIL import Image

from ._jpeg import DocumentError, read_jpeg, to_jpeg
from .aamva import parse_aamva
from .layout import CARD_REGIONS, PASSPORT_REGIONS, Regions
from .mrz import parse_td3

__all__ = [
    "DL_TYPES",
    "GOVERNMENT_ID_TYPES",
    "ID_CARD_TYPES",
    "IMAGE_TYPES",
    "MIN_ID_SIZE",
    "PASSPORT_TYPES",
    "SELFIE",
    "TEXT_TYPES",
    "IdReading",
    "SubmittedDocument",
    "accepted_types",
    "b64",
    "check_document",
    "check_mode",
    "latest",
    "read_id",
    "text_of",
]

DL_TYPES = ("Driver License Front", "Driver License Back", "Driver License Code")
ID_CARD_TYPES = ("ID Card Front", "ID Card Back", "ID Card Code")
PASSPORT_TYPES = ("Passport", "Passport Front")  # "Passport Front" is the older docs' name
PASSPORT_CARD_TYPES = ("Passport Card Front", "Passport Card Back")
SELFIE = "Selfie"
IMAGE_TYPES = frozenset(
    {*DL_TYPES[:2], *ID_CARD_TYPES[:2], *PASSPORT_TYPES, *PASSPORT_CARD_TYPES, SELFIE}
)
TEXT_TYPES = frozenset({DL_TYPES[2], ID_CARD_TYPES[2], "Phone", "Email"})
AUDIO_TYPES = frozenset({"Voice Sample", "Voice Input"})
# Smallest ID image a provider reads (a 640x400 scan is typical).
MIN_ID_SIZE = (320, 200)
GOVERNMENT_ID_TYPES = frozenset({*DL_TYPES, *ID_CARD_TYPES, *PASSPORT_TYPES, *PASSPORT_CARD_TYPES})


@dataclass
class SubmittedDocument:
    """One document as the sandbox stored it: readable type, raw value, when, and its id."""

    type: str
    data: bytes | str  # image bytes, or the API's base64 `value`; text for codes
    submitted_at: datetime
    id: str
    source: dict[str, str] | None = None  # {"ipAddress", "userAgent"} of the submitting client


def check_mode(policy: dict[str, Any], section: str) -> str:
    """REQUIRED / OPTIONAL / DISABLED for a policy section; an absent section is DISABLED."""
    value = (policy.get(section) or {}).get("verify", "DISABLED")
    return str(value).upper()


def accepted_types(requirements: dict[str, Any], policy: dict[str, Any]) -> frozenset[str]:
    """The document types a transaction with these requirements and policy accepts."""
    types: set[str] = set()
    if check_mode(policy, "governmentId") != "DISABLED":
        types |= GOVERNMENT_ID_TYPES
    if (
        check_mode(policy, "facialComparison") != "DISABLED"
        or check_mode(policy, "liveness") != "DISABLED"
    ):
        types.add(SELFIE)
    if "phone" in requirements or check_mode(policy, "phone") != "DISABLED":
        types.add("Phone")
    if "email" in requirements or check_mode(policy, "email") != "DISABLED":
        types.add("Email")
    if check_mode(policy, "voice") != "DISABLED":
        types |= AUDIO_TYPES
    return frozenset(types)


def check_document(
    doc_type: str,
    data: bytes | str,
    *,
    requirements: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
) -> None:
    """Reject at submission what no provider could take: a wrong type, or an image that is no JPEG.

    Raises DocumentError with `.target` "type" or "value" (the HTTP layer's 400 INVALID_DATA).
    Content problems (a bad check digit, an expired card) are not errors here: they are decisions.
    """
    known = IMAGE_TYPES | TEXT_TYPES | AUDIO_TYPES
    allowed = known if policy is None else accepted_types(requirements or {}, policy)
    if doc_type not in allowed:
        raise DocumentError("invalid document type for transaction", target="type")
    if doc_type in IMAGE_TYPES:
        read_jpeg(data, what=doc_type)
    elif doc_type in TEXT_TYPES and not (data.strip() if isinstance(data, str) else data):
        raise DocumentError(f"{doc_type}: value is empty")


def text_of(data: bytes | str) -> str:
    """A text document's value (bytes are read as UTF-8)."""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


@dataclass
class IdReading:
    """What reading one government ID gave: data, images, crops and the checks performed."""

    kind: str  # "DL", "ID" or "PASSPORT"
    data: dict[str, str] = field(default_factory=dict)
    front: bytes | None = None
    back: bytes | None = None
    barcode: str | None = None
    portrait: Image.Image | None = None
    crops: dict[str, bytes] = field(default_factory=dict)
    checks: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def expiry(self) -> date | None:
        raw = self.data.get("expirationDate")
        return date.fromisoformat(raw) if raw else None


def latest(documents: list[SubmittedDocument]) -> dict[str, SubmittedDocument]:
    """The most recent document of each type (a re-submission replaces the earlier one)."""
    out: dict[str, SubmittedDocument] = {}
    for doc in sorted(documents, key=lambda d: d.submitted_at):
        out[doc.type] = doc
    return out


def read_id(docs: dict[str, SubmittedDocument], *, today: date) -> IdReading | None:
    """Read the submitted government ID (passport first, then driver licence, then ID card)."""
    for t in PASSPORT_TYPES:
        if t in docs:
            return _read_passport(docs[t], today=today)
    if any(t in docs for t in DL_TYPES):
        return _read_card(docs, DL_TYPES, kind="DL")
    if any(t in docs for t in ID_CARD_TYPES):
        return _read_card(docs, ID_CARD_TYPES, kind="ID")
    return None


def _image(
    reading: IdReading, doc: SubmittedDocument
) -> tuple[bytes, Image.Image, list[str]] | None:
    """Raw bytes, decoded image and JPEG comments of an image document, or None (error noted)."""
    try:
        raw, img, comments = read_jpeg(doc.data, what=doc.type)
        if img.width < MIN_ID_SIZE[0] or img.height < MIN_ID_SIZE[1]:
            raise DocumentError(
                f"{doc.type}: image {img.width}x{img.height} is too small to read "
                f"(at least {MIN_ID_SIZE[0]}x{MIN_ID_SIZE[1]} pixels)"
            )
        return raw, img, comments
    except DocumentError as exc:
        reading.errors.append(str(exc))
        reading.checks.append({"name": "Document Structure", "judgement": "Fraudulent"})
        return None


def _crops(reading: IdReading, img: Image.Image, regions: Regions) -> None:
    portrait = img.crop(regions.box("portrait", img.size))
    reading.portrait = portrait
    reading.crops = {
        "CROPPED_PORTRAIT": to_jpeg(portrait),
        "CROPPED_SIGNATURE": to_jpeg(img.crop(regions.box("signature", img.size))),
        "CROPPED_DOCUMENT": to_jpeg(img),
    }


def _read_passport(doc: SubmittedDocument, *, today: date) -> IdReading:
    reading = IdReading(kind="PASSPORT")
    got = _image(reading, doc)
    if got is None:
        return reading
    raw, img, comments = got
    reading.front = raw
    reading.checks.append({"name": "Document Structure", "judgement": "Authentic"})
    _crops(reading, img, PASSPORT_REGIONS)
    mrz_text = next((c for c in comments if c.lstrip().startswith("P")), None)
    if mrz_text is None:
        reading.errors.append("Passport: no machine-readable zone could be read from the image")
        reading.checks.append({"name": "MRZ Analysis", "judgement": "Unable to verify"})
        return reading
    try:
        reading.data = parse_td3(mrz_text, today=today).government_id()
        reading.checks.append({"name": "MRZ Analysis", "judgement": "Authentic"})
    except DocumentError as exc:
        reading.errors.append(str(exc))
        reading.checks.append({"name": "MRZ Analysis", "judgement": "Fraudulent"})
    return reading


def _read_card(
    docs: dict[str, SubmittedDocument], types: tuple[str, ...], *, kind: str
) -> IdReading:
    front_t, back_t, code_t = types
    reading = IdReading(kind=kind)
    back_comments: list[str] = []
    if front_t in docs and (got := _image(reading, docs[front_t])):
        reading.front = got[0]
        _crops(reading, got[1], CARD_REGIONS)
    if back_t in docs and (got := _image(reading, docs[back_t])):
        reading.back, back_comments = got[0], got[2]
    if reading.front and not reading.errors:
        reading.checks.append({"name": "Document Structure", "judgement": "Authentic"})
    # The barcode as the phone decoded it, else as the provider decodes it from the back image.
    text = (
        text_of(docs[code_t].data)
        if code_t in docs
        else next((c for c in back_comments if c.startswith("@")), None)
    )
    if text is None:
        reading.errors.append(
            f"{kind} barcode could not be read: no {code_t} and no PDF417 on the back"
        )
        reading.checks.append({"name": "Barcode Analysis", "judgement": "Unable to verify"})
        return reading
    try:
        record = parse_aamva(text)
        label = "DriversLicense" if kind == "DL" else "IdentificationCard"
        reading.data = record.government_id(f"[{label}Front, {label}Back]")
        reading.barcode = text
        reading.checks.append({"name": "Barcode Analysis", "judgement": "Authentic"})
    except DocumentError as exc:
        reading.errors.append(str(exc))
        reading.checks.append({"name": "Barcode Analysis", "judgement": "Fraudulent"})
    return reading


def b64(raw: bytes) -> str:
    """Base64 text of image bytes (verifiedData `IMAGE`)."""
    return base64.b64encode(raw).decode("ascii")

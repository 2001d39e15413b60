"""Test personas: who they claim to be, the documents they carry, the decision rule they hit."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image

from ._jpeg import to_jpeg
from .aamva import SEXES, build_aamva
from .cards import CARD_REGIONS, Holder, draw_card, draw_passport
from .faces import draw_selfie
from .mrz import build_td3

__all__ = ["PERSONAS", "Persona", "documents_for", "make_documents", "requirements_for"]


@dataclass(frozen=True)
class Persona:
    """A synthetic person: the ID they hold, what they type in, and the outcome they produce."""

    name: str
    description: str
    holder: Holder  # what the ID says
    document: str = "DL"  # "DL", "ID" or "PASSPORT"
    claimed: dict[str, str] | None = None  # biographic data given at creation (None: the ID's)
    selfie: str = "camera"  # "camera": same face; "other": another face; "replay": the ID photo
    corrupt_mrz: bool = False
    expected: str = "SUCCESS"
    rule: str = "all checks pass"

    def biographic(self) -> dict[str, str]:
        """The data this persona enters at transaction creation (snake_case API field names)."""
        h = self.holder
        data = {
            "given_name": h.given,
            "family_name": h.family,
            "birth_date": h.birth.isoformat(),
            "address": f"{h.street}, {h.city}, {h.state} {h.zip}",
        }
        return {**data, **(self.claimed or {})}


_JOHN = Holder(
    given="JOHN", family="DOE", middle="Q", birth=date(1985, 4, 1), expiry=date(2035, 12, 31),
    issue=date(2020, 10, 15), number="D1234567", face_seed="john-doe",
)  # fmt: skip
_MARIA = Holder(
    given="MARIA", family="GARCIA", birth=date(1990, 7, 14), expiry=date(2034, 6, 30),
    issue=date(2024, 6, 30), number="X9876543", sex="F", eyes="GRN", height_in=64,
    street="742 EVERGREEN TERRACE", city="PORTLAND", state="OR", zip="97201",
    face_seed="garcia-maria", nationality="USA",
)  # fmt: skip

PERSONAS: dict[str, Persona] = {
    p.name: p
    for p in (
        Persona("success", "Driver licence, matching selfie, matching data", _JOHN),
        Persona(
            "passport", "Passport with a valid MRZ, matching selfie", _MARIA, document="PASSPORT"
        ),
        Persona(
            "id_card",
            "State ID card (front and back), matching selfie",
            replace(_JOHN, number="I7654321", face_seed="ida-card"),
            document="ID",
        ),
        Persona(
            "expired_id",
            "Driver licence that expired on 2024-03-31",
            replace(_JOHN, expiry=date(2024, 3, 31), issue=date(2016, 3, 31)),
            expected="FAIL",
            rule="document expired",
        ),
        Persona(
            "bad_mrz",
            "Passport whose document-number check digit is wrong",
            _MARIA,
            document="PASSPORT",
            corrupt_mrz=True,
            expected="FAIL",
            rule="MRZ check digit",
        ),
        Persona(
            "selfie_mismatch",
            "Driver licence of one person, selfie of another",
            _JOHN,
            selfie="other",
            expected="FAIL",
            rule="facial comparison",
        ),
        Persona(
            "liveness_replay",
            "Selfie that is a re-upload of the ID portrait",
            _JOHN,
            selfie="replay",
            expected="FAIL",
            rule="liveness",
        ),
        Persona(
            "name_mismatch",
            "Enters a different name than the licence shows",
            _JOHN,
            claimed={"given_name": "ROBERT", "family_name": "SMITH"},
            expected="FAIL",
            rule="biographic match",
        ),
        Persona(
            "birthdate_mismatch",
            "Enters another birth date than the licence shows",
            _JOHN,
            claimed={"birth_date": "1979-11-23"},
            expected="FAIL",
            rule="biographic match",
        ),
    )
}


def _persona(name: str) -> Persona:
    try:
        return PERSONAS[name]
    except KeyError:
        raise KeyError(f"unknown persona {name!r}; choose one of {', '.join(PERSONAS)}") from None


def requirements_for(persona: str) -> dict[str, Any]:
    """The `requirements` of a create-transaction body for this persona's claimed data."""
    return {k: {"value": v} for k, v in _persona(persona).biographic().items()}


_SEX_CODES = {sex: code for code, sex in SEXES.items()}


def _aamva(p: Persona) -> str:
    h = p.holder
    elements = {
        "DAQ": h.number, "DCS": h.family, "DAC": h.given, "DAD": h.middle or "NONE",
        "DBB": f"{h.birth:%m%d%Y}", "DBA": f"{h.expiry:%m%d%Y}", "DBD": f"{h.issue:%m%d%Y}",
        "DAG": h.street, "DAI": h.city, "DAJ": h.state, "DAK": f"{h.zip:0<9}",
        "DBC": _SEX_CODES.get(h.sex, "9"), "DAY": h.eyes,
        "DAU": f"{h.height_in:03d} in", "DCG": "USA",
    }  # fmt: skip
    if not h.middle:
        del elements["DAD"]
    return build_aamva(elements, subfile="DL" if p.document == "DL" else "ID")


def _mrz(p: Persona) -> str:
    h = p.holder
    text = build_td3(
        surname=h.family, given_names=h.given, number=h.number, nationality=h.nationality,
        birth_date=h.birth, sex=h.sex, expiry_date=h.expiry,
    )  # fmt: skip
    if p.corrupt_mrz:  # document-number check digit (line 2, column 10) off by one
        line1, line2 = text.split("\n")
        digit = str((int(line2[9]) + 1) % 10)
        text = f"{line1}\n{line2[:9]}{digit}{line2[10:]}"
    return text


def _selfie(p: Persona, front: Image.Image) -> bytes:
    seed = p.holder.face_seed or p.holder.number
    if p.selfie == "other":
        return to_jpeg(draw_selfie(seed + "/someone-else"))
    if p.selfie == "replay":  # the ID portrait cut out and blown up: a photo of a photo
        portrait = front.crop(CARD_REGIONS.box("portrait", front.size))
        return to_jpeg(
            portrait.resize((portrait.width * 3, portrait.height * 3), Image.Resampling.BICUBIC)
        )
    return to_jpeg(draw_selfie(seed))


@cache
def _documents(persona: str) -> tuple[tuple[str, bytes | str], ...]:
    p = _persona(persona)
    if p.document == "PASSPORT":
        mrz = _mrz(p)
        page = draw_passport(p.holder, mrz)
        return (("Passport", to_jpeg(page, comment=mrz)), ("Selfie", _selfie(p, page)))
    label = "Driver License" if p.document == "DL" else "ID Card"
    code = _aamva(p)
    front = draw_card(p.holder, side="front", kind=p.document)
    back = draw_card(p.holder, side="back", kind=p.document, barcode=code)
    docs: list[tuple[str, bytes | str]] = [
        (f"{label} Front", to_jpeg(front)),
        (f"{label} Back", to_jpeg(back, comment=code)),
    ]
    if p.document == "DL":
        docs.append(("Driver License Code", code))
    docs.append(("Selfie", _selfie(p, front)))
    return tuple(docs)


def documents_for(persona: str) -> list[tuple[str, bytes | str]]:
    """The persona's documents as (readable type, JPEG bytes or text), in submission order."""
    return list(_documents(persona))


def make_documents(persona: str, out_dir: Path) -> list[Path]:
    """Write the persona's documents (and persona.json with its claimed data) into `out_dir`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    docs = documents_for(persona)
    paths = []
    for doc_type, value in docs:
        stem = doc_type.lower().replace(" ", "-")
        path = out_dir / (f"{stem}.jpg" if isinstance(value, bytes) else f"{stem}.txt")
        if isinstance(value, bytes):
            path.write_bytes(value)
        else:
            path.write_text(value, encoding="utf-8", newline="")
        paths.append(path)
    p = _persona(persona)
    info = {
        "persona": p.name,
        "description": p.description,
        "expected": p.expected,
        "rule": p.rule,
        "requirements": requirements_for(persona),
        "documents": [
            {"type": t, "file": path.name} for (t, _), path in zip(docs, paths, strict=True)
        ],
    }
    meta = out_dir / "persona.json"
    meta.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return [*paths, meta]

"""Fuzzy matching of biographic fields: names, addresses, dates -> rawScore and HIGH/MEDIUM/LOW."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler

__all__ = [
    "CONFIDENCE_RANK",
    "FIELDS",
    "FieldMatch",
    "MatchInputError",
    "compare_field",
    "confidence_for",
    "identity_record_matching",
    "parse_date",
]

CONFIDENCE_RANK = {"LOW": 0, "MEDIUM": 1, "HIGH": 2}
# Minimum rawScore for HIGH and MEDIUM, per kind of field (docs/sandbox.md, "Decision rules").
THRESHOLDS = {"name": (0.95, 0.85), "address": (0.90, 0.75), "date": (0.95, 0.60)}
# Weights of the overall score (normalised over the fields that were compared).
WEIGHTS = {"given_name": 0.2, "family_name": 0.3, "name": 0.3, "birth_date": 0.3, "address": 0.2}
OVERALL_THRESHOLDS = (0.90, 0.75)
FIELDS = tuple(WEIGHTS)
_KIND = {
    "given_name": "name",
    "family_name": "name",
    "name": "name",
    "address": "address",
    "birth_date": "date",
}
_TITLES = {"MR", "MRS", "MS", "MISS", "DR", "PROF", "SIR"}
_STREET_WORDS = {
    "ST": "STREET", "RD": "ROAD", "AVE": "AVENUE", "AV": "AVENUE", "BLVD": "BOULEVARD",
    "DR": "DRIVE", "LN": "LANE", "CT": "COURT", "PL": "PLACE", "SQ": "SQUARE", "HWY": "HIGHWAY",
    "PKWY": "PARKWAY", "TER": "TERRACE", "APT": "APARTMENT", "STE": "SUITE", "N": "NORTH",
    "S": "SOUTH", "E": "EAST", "W": "WEST", "NE": "NORTHEAST", "NW": "NORTHWEST",
    "SE": "SOUTHEAST", "SW": "SOUTHWEST", "MT": "MOUNT", "FT": "FORT",
}  # fmt: skip
_DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%m-%d-%Y",
    "%d-%m-%Y", "%m%d%Y", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y",
    "%B %d, %Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ",
)  # fmt: skip


class MatchInputError(ValueError):
    """An identity record matching body that cannot be used; `.target` is its JSON path."""

    def __init__(self, message: str, *, target: str) -> None:
        super().__init__(message)
        self.target = target


@dataclass(frozen=True)
class FieldMatch:
    """How one probe value compares with one gallery value."""

    field: str
    probe: str
    gallery: str
    score: float
    confidence: str

    def as_result(self) -> dict[str, Any]:
        """The `detailedResults.<field>` object of the API."""
        return {
            "probeValue": self.probe,
            "galleryValue": self.gallery,
            "rawScore": round(self.score, 4),
            "confidence": self.confidence,
        }


def confidence_for(score: float, thresholds: tuple[float, float]) -> str:
    """HIGH / MEDIUM / LOW for a score, given the minimum scores of HIGH and MEDIUM."""
    high, medium = thresholds
    return "HIGH" if score >= high else "MEDIUM" if score >= medium else "LOW"


def _fold(text: str) -> str:
    """Upper case, accents removed, punctuation turned into spaces, spaces collapsed."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^A-Z0-9 ]", " ", plain.upper()).split())


def normalise_name(text: str) -> str:
    """A name as compared: folded, with titles ("MR", "DR", ...) dropped."""
    return " ".join(t for t in _fold(text).split() if t not in _TITLES)


def normalise_address(text: str) -> str:
    """An address as compared: folded, with street-type abbreviations spelled out."""
    return " ".join(_STREET_WORDS.get(t, t) for t in _fold(text).split())


def _name_score(probe: str, gallery: str) -> tuple[float, str]:
    a, b = normalise_name(probe), normalise_name(gallery)
    if not a or not b:
        return 0.0, "LOW"
    score = max(
        JaroWinkler.similarity(a, b),
        JaroWinkler.similarity(" ".join(sorted(a.split())), " ".join(sorted(b.split()))),
    )
    confidence = confidence_for(score, THRESHOLDS["name"])
    ta, tb = set(a.split()), set(b.split())
    if ta != tb and (ta < tb or tb < ta) and confidence == "LOW":
        confidence = "MEDIUM"  # a partial name (given name without the middle name) is MEDIUM
    return score, confidence


def _address_score(probe: str, gallery: str) -> tuple[float, str]:
    a, b = normalise_address(probe), normalise_address(gallery)
    if not a or not b:
        return 0.0, "LOW"
    score = fuzz.token_set_ratio(a, b) / 100.0
    house_a, house_b = _house_number(a), _house_number(b)
    if house_a and house_b and house_a != house_b:
        score *= 0.85  # another house on the same street is not the same address
    return score, confidence_for(score, THRESHOLDS["address"])


def _house_number(address: str) -> str | None:
    first = address.split()[0]
    return first if first.isdigit() else None


def parse_date(text: str) -> date | None:
    """A date in one of the usual formats (ISO first, then US month-first, then day-first)."""
    value = " ".join(text.strip().split())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _date_score(probe: str, gallery: str) -> tuple[float, str]:
    a, b = parse_date(probe), parse_date(gallery)
    if a is None or b is None:
        return 0.0, "LOW"
    if a == b:
        score = 1.0
    elif (a.year, a.month, a.day) == (b.year, b.day, b.month):
        score = 0.9  # day and month transposed: the classic US/European mix-up
    else:
        score = sum(x == y for x, y in ((a.year, b.year), (a.month, b.month), (a.day, b.day))) / 3
    return score, confidence_for(score, THRESHOLDS["date"])


_SCORERS: dict[str, Callable[[str, str], tuple[float, str]]] = {
    "name": _name_score,
    "address": _address_score,
    "date": _date_score,
}


def compare_field(field: str, probe: str, gallery: str) -> FieldMatch:
    """Compare one biographic field (given_name, family_name, name, address, birth_date)."""
    score, confidence = _SCORERS[_KIND[field]](probe, gallery)
    return FieldMatch(field, probe, gallery, score, confidence)


def best_match(field: str, probe: str, spec: dict[str, Any], *, target: str) -> FieldMatch:
    """Compare with a gallery spec: `{"value": s}`, `{"options": [...]}` or `{"expression": re}`."""
    if isinstance(spec.get("value"), str):
        return compare_field(field, probe, spec["value"])
    options = spec.get("options")
    if isinstance(options, list) and options and all(isinstance(o, str) for o in options):
        matches = [compare_field(field, probe, o) for o in options]
        return max(matches, key=lambda m: m.score)
    if isinstance(spec.get("expression"), str):
        return _expression_match(field, probe, spec["expression"], target=target)
    raise MatchInputError(
        f"{target} must have 'value' (string), 'options' (non-empty list of strings) or "
        "'expression' (regular expression)",
        target=target,
    )


def _expression_match(field: str, probe: str, expression: str, *, target: str) -> FieldMatch:
    try:
        pattern = re.compile(expression, re.IGNORECASE)
    except re.error as exc:
        raise MatchInputError(
            f"{target}.expression is not a regular expression: {exc}", target=target
        ) from exc
    hit = pattern.fullmatch(probe.strip()) is not None
    return FieldMatch(field, probe, expression, 1.0 if hit else 0.0, "HIGH" if hit else "LOW")


def overall(matches: list[FieldMatch]) -> tuple[float, str]:
    """The weighted score of the compared fields and its confidence."""
    total = sum(WEIGHTS[m.field] for m in matches)
    score = sum(WEIGHTS[m.field] * m.score for m in matches) / total if total else 0.0
    return score, confidence_for(score, OVERALL_THRESHOLDS)


def identity_record_matching(body: dict[str, Any]) -> dict[str, Any]:
    """The response of `POST /users/{id}/identityRecordMatching` for a `{probe, gallery}` body."""
    probe, gallery = body.get("probe"), body.get("gallery")
    if not isinstance(probe, dict):
        raise MatchInputError("probe is required: an object of field -> string", target="probe")
    if not isinstance(gallery, dict):
        raise MatchInputError(
            "gallery is required: an object of field -> {value|options|expression}",
            target="gallery",
        )
    for where, obj in (("probe", probe), ("gallery", gallery)):
        for key in obj:
            if key not in WEIGHTS:
                raise MatchInputError(
                    f"{where}.{key} is not a matchable field; use one of {', '.join(FIELDS)}",
                    target=f"{where}.{key}",
                )
    matches = []
    for field in FIELDS:
        if field in probe and field in gallery:
            if not isinstance(probe[field], str):
                raise MatchInputError(f"probe.{field} must be a string", target=f"probe.{field}")
            if not isinstance(gallery[field], dict):
                raise MatchInputError(
                    f"gallery.{field} must be an object", target=f"gallery.{field}"
                )
            matches.append(
                best_match(field, probe[field], gallery[field], target=f"gallery.{field}")
            )
    if not matches:
        raise MatchInputError("probe and gallery have no field in common", target="probe")
    score, confidence = overall(matches)
    return {
        "detailedResults": {m.field: m.as_result() for m in matches},
        "overallWeightedScore": round(score, 4),
        "overallConfidenceScore": confidence,
    }

"""AAMVA PDF417 barcode text (driver licences and ID cards): parse into fields, and build it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from ._jpeg import DocumentError

__all__ = ["AamvaRecord", "build_aamva", "parse_aamva"]

# The element ids a sandbox reader understands (AAMVA DL/ID card design standard, annex D).
ELEMENTS = {
    "DAQ": "idNumber",
    "DCS": "lastName",
    "DAC": "firstName",
    "DCT": "firstName",  # older versions: given names in one element
    "DAD": "middleName",
    "DBB": "birthDate",
    "DBA": "expirationDate",
    "DBD": "issueDate",
    "DAG": "addressStreet",
    "DAI": "addressCity",
    "DAJ": "addressState",
    "DAK": "addressZip",
    "DBC": "gender",
    "DAY": "eyeColor",
    "DAU": "height",
    "DCG": "country",
}
REQUIRED = ("DAQ", "DCS", "DBB", "DBA")
_HEADER = re.compile(r"^@\n\x1e\rANSI (\d{6})(\d{2})(\d{2})(\d{2})")
# The date elements and their GOVERNMENT_ID keys.
DATES = {"DBB": "birthDate", "DBA": "expirationDate", "DBD": "issueDate"}
SEXES = {"1": "M", "2": "F", "9": "X"}  # DBC code -> sex


@dataclass
class AamvaRecord:
    """One parsed licence or ID card: its subfile type ("DL" or "ID"), elements and dates."""

    subfile: str
    iin: str
    elements: dict[str, str] = field(default_factory=dict)
    dates: dict[str, date] = field(default_factory=dict)  # the DATES elements present, parsed

    def government_id(self, id_type: str) -> dict[str, str]:
        """The GOVERNMENT_ID verifiedData `data` for this card."""
        e = self.elements
        data: dict[str, str] = {}
        for code, key in ELEMENTS.items():
            if e.get(code):
                data[key] = e[code].strip()
        zip_code = data.get("addressZip", "")
        if len(zip_code) == 9 and zip_code.endswith("0000"):
            data["addressZip"] = zip_code[:5]  # AAMVA pads 5-digit ZIP codes with zeros
        for code, value in self.dates.items():
            data[DATES[code]] = value.isoformat()
        if "DBC" in e:
            data["gender"] = SEXES.get(e["DBC"], e["DBC"])
        given = " ".join(p for p in (data.get("firstName"), data.get("middleName")) if p)
        data["fullName"] = " ".join(p for p in (given, data.get("lastName")) if p)
        street = data.get("addressStreet")
        city_line = " ".join(p for p in (data.get("addressState"), data.get("addressZip")) if p)
        parts = [p for p in (street, data.get("addressCity"), city_line) if p]
        if parts:
            data["address"] = ", ".join(parts)
        data["country"] = data.get("country", "USA")
        data["idType"] = id_type
        return data


def parse_aamva(text: str) -> AamvaRecord:
    """Parse AAMVA PDF417 text; raises DocumentError naming what is wrong."""
    m = _HEADER.match(text)
    if not m:
        raise DocumentError(
            "Driver License Code: not AAMVA PDF417 text (expected the header '@\\n\\x1e\\rANSI ' "
            "followed by a 6-digit issuer id)"
        )
    iin, _version, _jver, count = m.groups()
    subfile, body = _subfile(text, m.end(), int(count))
    elements: dict[str, str] = {}
    for line in body.replace("\r", "\n").split("\n"):
        if len(line) >= 3 and re.fullmatch(r"D[A-Z]{2}", line[:3]):
            elements.setdefault(line[:3], line[3:].strip())
    missing = [c for c in REQUIRED if not elements.get(c)]
    if not (elements.get("DAC") or elements.get("DCT")):
        missing.append("DAC")
    if missing:
        raise DocumentError(
            f"Driver License Code: required element(s) missing: {', '.join(missing)}"
        )
    canadian = elements.get("DCG", "USA") == "CAN"
    dates = {code: _date(code, elements[code], canadian) for code in DATES if code in elements}
    return AamvaRecord(subfile=subfile, iin=iin, elements=elements, dates=dates)


def _date(element: str, raw: str, canadian: bool) -> date:
    """A date element; US cards write MMDDCCYY, Canadian cards CCYYMMDD."""
    try:
        if not re.fullmatch(r"\d{8}", raw):
            raise ValueError("not 8 digits")
        if canadian:
            return date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        return date(int(raw[4:]), int(raw[:2]), int(raw[2:4]))
    except ValueError as exc:
        order = "CCYYMMDD" if canadian else "MMDDCCYY"
        raise DocumentError(
            # The element, never its text: DBB is the holder's birth date.
            f"Driver License Code: {element} is not a date ({order}, {len(raw)} characters)"
        ) from exc


def _subfile(text: str, pos: int, count: int) -> tuple[str, str]:
    """The first DL or ID subfile, located by its designator (type, offset, length)."""
    for k in range(max(1, count)):
        entry = text[pos + 10 * k : pos + 10 * k + 10]
        kind, offset, length = entry[:2], entry[2:6], entry[6:10]
        if kind in ("DL", "ID") and offset.isdigit() and length.isdigit():
            body = text[int(offset) : int(offset) + int(length)]
            if body.startswith(kind):
                return kind, body[2:]
    # Designators that do not point at the subfile: fall back to searching for it.
    for kind in ("DL", "ID"):
        at = text.find(kind + "D", pos + 10 * max(1, count))
        if at >= 0:
            return kind, text[at + 2 :]
    raise DocumentError("Driver License Code: no DL or ID subfile in the AAMVA text")


def build_aamva(elements: dict[str, str], *, subfile: str = "DL", iin: str = "636000") -> str:
    """AAMVA text (version 10) with a correct subfile designator, as a PDF417 decoder returns it."""
    body = subfile + "".join(f"{code}{value}\n" for code, value in elements.items()) + "\r"
    header = f"@\n\x1e\rANSI {iin}1000" + "01"
    offset = len(header) + 10
    return f"{header}{subfile}{offset:04d}{len(body):04d}{body}"

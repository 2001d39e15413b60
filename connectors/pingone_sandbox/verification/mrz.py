"""Passport machine-readable zone (ICAO 9303 TD3: two lines of 44): build, parse, check digits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ._jpeg import DocumentError

__all__ = ["Mrz", "build_td3", "check_digit", "parse_td3"]

_WEIGHTS = (7, 3, 1)
_LINE = re.compile(r"[A-Z0-9<]{44}")


def _value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    if ch == "<":
        return 0
    return ord(ch) - ord("A") + 10


def check_digit(field: str) -> str:
    """ICAO 9303 check digit: sum of character values weighted 7, 3, 1 repeating, modulo 10."""
    return str(sum(_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(field)) % 10)


@dataclass(frozen=True)
class Mrz:
    """The fields of a TD3 MRZ (all check digits verified)."""

    issuing_state: str
    surname: str
    given_names: str
    number: str
    nationality: str
    birth_date: date
    sex: str
    expiry_date: date
    personal_number: str

    def government_id(self) -> dict[str, str]:
        """The GOVERNMENT_ID verifiedData `data` for this passport."""
        data = {
            "firstName": self.given_names,
            "lastName": self.surname,
            "fullName": f"{self.given_names} {self.surname}".strip(),
            "birthDate": self.birth_date.isoformat(),
            "expirationDate": self.expiry_date.isoformat(),
            "idNumber": self.number,
            "idType": "PassportPicturePage",
            "gender": self.sex,
            "nationality": self.nationality,
            "issuingCountry": self.issuing_state,
            "country": self.issuing_state,
        }
        if self.personal_number:
            data["personalNumber"] = self.personal_number
        return data


def _field(name: str, value: str, digit: str) -> None:
    expected = check_digit(value)
    if digit != expected:
        raise DocumentError(
            f"Passport MRZ: check digit for {name} is {digit!r}, expected {expected!r} "
            "(7-3-1 weighted sum modulo 10)"
        )


def _date(name: str, yymmdd: str, *, today: date, future: bool) -> date:
    """A YYMMDD date; birth dates are in the past, expiry dates up to 50 years ahead."""
    try:
        yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
        year = 2000 + yy
        if (not future and year > today.year) or (future and year > today.year + 50):
            year -= 100
        return date(year, mm, dd)
    except ValueError as exc:
        raise DocumentError(f"Passport MRZ: {name} {yymmdd!r} is not a date (YYMMDD)") from exc


def parse_td3(text: str, *, today: date) -> Mrz:
    """Parse two 44-character MRZ lines, verifying all five check digits."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if len(lines) != 2 or not all(_LINE.fullmatch(ln) for ln in lines):
        raise DocumentError(
            "Passport MRZ: expected 2 lines of 44 characters A-Z, 0-9 and '<' (ICAO 9303 TD3)"
        )
    l1, l2 = lines
    if l1[0] != "P":
        raise DocumentError(f"Passport MRZ: document code {l1[:2]!r} is not a passport ('P')")
    _field("document number", l2[0:9], l2[9])
    _field("date of birth", l2[13:19], l2[19])
    _field("date of expiry", l2[21:27], l2[27])
    _field("personal number", l2[28:42], l2[42])
    _field("composite (line 2)", l2[0:10] + l2[13:20] + l2[21:43], l2[43])
    surname, _, given = l1[5:].partition("<<")
    return Mrz(
        issuing_state=l1[2:5].rstrip("<"),
        surname=surname.replace("<", " ").strip(),
        given_names=given.replace("<", " ").strip(),
        number=l2[0:9].rstrip("<"),
        nationality=l2[10:13].rstrip("<"),
        birth_date=_date("date of birth", l2[13:19], today=today, future=False),
        sex=l2[20].replace("<", "X"),
        expiry_date=_date("date of expiry", l2[21:27], today=today, future=True),
        personal_number=l2[28:42].rstrip("<"),
    )


def _pad(text: str, width: int) -> str:
    return (text + "<" * width)[:width]


def _mrz_text(value: str) -> str:
    return re.sub(r"[^A-Z0-9<]", "<", value.upper().replace(" ", "<"))


def build_td3(
    *,
    surname: str,
    given_names: str,
    number: str,
    nationality: str,
    birth_date: date,
    sex: str,
    expiry_date: date,
    issuing_state: str | None = None,
    personal_number: str = "",
) -> str:
    """Two TD3 lines with correct check digits (tests and personas corrupt them on purpose)."""
    state = issuing_state or nationality
    line1 = _pad(f"P<{_pad(state, 3)}{_mrz_text(surname)}<<{_mrz_text(given_names)}", 44)
    num = _pad(_mrz_text(number), 9)
    dob, exp = birth_date.strftime("%y%m%d"), expiry_date.strftime("%y%m%d")
    pn = _pad(_mrz_text(personal_number), 14)
    head = f"{num}{check_digit(num)}{_pad(nationality, 3)}{dob}{check_digit(dob)}{sex or '<'}"
    tail = f"{exp}{check_digit(exp)}{pn}{check_digit(pn)}"
    composite = check_digit(head[0:10] + head[13:20] + tail)
    return f"{line1}\n{head}{tail}{composite}"

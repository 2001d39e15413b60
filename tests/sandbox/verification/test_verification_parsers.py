"""AAMVA PDF417 text, passport TD3 MRZ and JPEG markers: valid, bad check digits, malformed."""

from __future__ import annotations

import base64
import io
import re
from datetime import date

import pytest

# Tests of the verification rules (a private subpackage): they call its functions directly.
from flowengine_connectors.pingone_sandbox.verification import DocumentError, check_document
from flowengine_connectors.pingone_sandbox.verification._jpeg import (
    decode_jpeg,
    jpeg_comments,
    to_jpeg,
)
from flowengine_connectors.pingone_sandbox.verification.aamva import build_aamva, parse_aamva
from flowengine_connectors.pingone_sandbox.verification.mrz import build_td3, check_digit, parse_td3
from PIL import Image

# The ICAO 9303 specimen passport (Anna Maria Eriksson of Utopia).
SPECIMEN = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
)
TODAY = date(2026, 1, 1)
ELEMENTS = {
    "DAQ": "D1234567", "DCS": "DOE", "DAC": "JOHN", "DAD": "Q", "DBB": "04011985",
    "DBA": "12312035", "DBD": "10152020", "DAG": "123 MAIN ST", "DAI": "SPRINGFIELD",
    "DAJ": "IL", "DAK": "627010000", "DBC": "1", "DAY": "BRO", "DAU": "070 in", "DCG": "USA",
}  # fmt: skip


def test_check_digit_weights_7_3_1():
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"
    assert check_digit("<<<<<<") == "0"


def test_mrz_specimen_parses():
    mrz = parse_td3(SPECIMEN, today=TODAY)
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.number == "L898902C3"
    assert mrz.birth_date == date(1974, 8, 12)
    assert mrz.expiry_date == date(2012, 4, 15)
    assert (mrz.sex, mrz.nationality, mrz.personal_number) == ("F", "UTO", "ZE184226B")


def test_mrz_build_round_trips_to_the_specimen():
    built = build_td3(
        surname="Eriksson", given_names="Anna Maria", number="L898902C3", nationality="UTO",
        birth_date=date(1974, 8, 12), sex="F", expiry_date=date(2012, 4, 15),
        personal_number="ZE184226B",
    )  # fmt: skip
    assert built == SPECIMEN


@pytest.mark.parametrize(
    ("column", "field"),
    [
        (9, "document number"),
        (19, "date of birth"),
        (27, "date of expiry"),
        (42, "personal number"),
        (43, "composite (line 2)"),
    ],
)
def test_mrz_each_bad_check_digit_is_named(column, field):
    line1, line2 = SPECIMEN.split("\n")
    wrong = str((int(line2[column]) + 1) % 10)
    with pytest.raises(DocumentError, match=re.escape(f"check digit for {field} is")):
        parse_td3(f"{line1}\n{line2[:column]}{wrong}{line2[column + 1 :]}", today=TODAY)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P<UTO\nL898",
        SPECIMEN.lower(),
        SPECIMEN + "\nEXTRA<LINE",
        SPECIMEN.replace("P<", "I<", 1),
    ],
)
def test_mrz_malformed(text):
    with pytest.raises(DocumentError, match="Passport MRZ"):
        parse_td3(text, today=TODAY)


def test_aamva_parses_fields_and_dates():
    record = parse_aamva(build_aamva(ELEMENTS))
    assert record.subfile == "DL"
    assert record.iin == "636000"
    data = record.government_id("[DriversLicenseFront, DriversLicenseBack]")
    assert data["birthDate"] == "1985-04-01"
    assert data["expirationDate"] == "2035-12-31"
    assert data["addressZip"] == "62701"
    assert data["gender"] == "M"
    assert data["eyeColor"] == "BRO"
    assert data["height"] == "070 in"


def test_aamva_canadian_dates_are_year_first():
    elements = {**ELEMENTS, "DBB": "19850401", "DBA": "20351231", "DBD": "20201015", "DCG": "CAN"}
    data = parse_aamva(build_aamva(elements)).government_id("x")
    assert (data["birthDate"], data["country"]) == ("1985-04-01", "CAN")


def test_aamva_id_card_subfile():
    assert parse_aamva(build_aamva(ELEMENTS, subfile="ID")).subfile == "ID"


def test_aamva_tolerates_wrong_designator_offsets():
    text = build_aamva(ELEMENTS).replace("DL0031", "DL0999", 1)
    assert parse_aamva(text).elements["DCS"] == "DOE"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("DAQD123\nDCSDOE", "not AAMVA PDF417 text"),
        (build_aamva({k: v for k, v in ELEMENTS.items() if k != "DBA"}), "missing: DBA"),
        (build_aamva({k: v for k, v in ELEMENTS.items() if k != "DAC"}), "missing: DAC"),
        (build_aamva({**ELEMENTS, "DBB": "13451985"}), r"DBB is not a date \(MMDDCCYY, 8 "),
    ],
)
def test_aamva_malformed(text, message):
    with pytest.raises(DocumentError, match=message):
        parse_aamva(text)


def _jpeg(comment=None):
    return to_jpeg(Image.new("RGB", (32, 24), (10, 200, 30)), comment=comment)


def test_jpeg_comment_segment_is_read():
    assert jpeg_comments(_jpeg("hello\nworld")) == ["hello\nworld"]
    assert jpeg_comments(_jpeg()) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a....", "no SOI marker"),
        (_jpeg()[:-40], "no EOI marker"),
        (b"\xff\xd8\xff\xfe\xff\xff" + b"\x00" * 10 + b"\xff\xd9", "overruns the file"),
        (b"\xff\xd8\x00\x00\xff\xd9", "expected a marker"),
    ],
)
def test_jpeg_markers_checked(data, message):
    with pytest.raises(DocumentError, match=message):
        decode_jpeg(data)


def test_jpeg_markers_right_but_no_image_does_not_decode():
    # SOI, a scan header with no frame or tables before it, EOI: the markers pass, decoding fails.
    data = b"\xff\xd8\xff\xda\x00\x08" + b"\x01\x01\x00\x00\x3f\x00" + b"\xff\xd9"
    with pytest.raises(DocumentError, match="JPEG image cannot be decoded"):
        decode_jpeg(data)


def test_check_document_at_submission():
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    with pytest.raises(DocumentError, match="not a JPEG") as err:
        check_document("Selfie", png.getvalue())
    assert err.value.target == "value"
    with pytest.raises(DocumentError, match="not valid base64") as err:
        check_document("Selfie", "not base64!!")
    with pytest.raises(DocumentError, match="invalid document type for transaction") as err:
        check_document("Library Card", _jpeg())
    assert err.value.target == "type"
    check_document("Selfie", base64.b64encode(_jpeg()).decode())
    check_document("Driver License Code", build_aamva(ELEMENTS))


def test_check_document_type_depends_on_policy():
    policy = {"governmentId": {"verify": "DISABLED"}, "facialComparison": {"verify": "REQUIRED"}}
    check_document("Selfie", _jpeg(), requirements={}, policy=policy)
    with pytest.raises(DocumentError, match="invalid document type") as err:
        check_document("Driver License Front", _jpeg(), requirements={}, policy=policy)
    assert err.value.target == "type"

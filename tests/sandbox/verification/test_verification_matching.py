"""Identity record matching: scores, confidences, overall figures and input errors."""

from __future__ import annotations

from datetime import date

import pytest

# Tests of the verification rules (a private subpackage): they call its functions directly.
from flowengine_connectors.pingone_sandbox.verification import (
    MatchInputError,
    identity_record_matching,
)
from flowengine_connectors.pingone_sandbox.verification.matching import compare_field, parse_date


def irm(probe, gallery):
    return identity_record_matching({"probe": probe, "gallery": gallery})


def test_exact_record_is_high_everywhere():
    out = irm(
        {"given_name": "John", "family_name": "Doe", "birth_date": "1985-04-01",
         "address": "123 Main St, Springfield, IL 62701"},
        {"given_name": {"value": "JOHN"}, "family_name": {"value": "DOE"},
         "birth_date": {"value": "04/01/1985"},
         "address": {"value": "123 MAIN STREET SPRINGFIELD IL 62701"}},
    )  # fmt: skip
    for result in out["detailedResults"].values():
        assert result["rawScore"] == 1.0
        assert result["confidence"] == "HIGH"
    assert out["overallWeightedScore"] == 1.0
    assert out["overallConfidenceScore"] == "HIGH"
    assert out["detailedResults"]["given_name"]["probeValue"] == "John"
    assert out["detailedResults"]["given_name"]["galleryValue"] == "JOHN"


@pytest.mark.parametrize(
    ("field", "probe", "gallery", "confidence", "low", "high"),
    [
        ("given_name", "Jon", "JOHN", "MEDIUM", 0.85, 0.95),
        ("given_name", "Maria", "JOHN", "LOW", 0.0, 0.5),
        ("family_name", "Gonzales", "GONZALEZ", "HIGH", 0.95, 1.0),
        ("family_name", "Doh", "DOE", "LOW", 0.8, 0.85),
        ("name", "Doe John", "JOHN DOE", "HIGH", 1.0, 1.0),
        ("name", "John", "JOHN QUINCY ADAMS", "MEDIUM", 0.0, 0.95),  # partial name
        ("name", "Mr. José Müller", "JOSE MULLER", "HIGH", 1.0, 1.0),
        ("birth_date", "1985-01-04", "1985-04-01", "MEDIUM", 0.9, 0.9),  # day/month swapped
        ("birth_date", "1985-04-02", "1985-04-01", "MEDIUM", 0.66, 0.67),
        ("birth_date", "1979-11-23", "1985-04-01", "LOW", 0.0, 0.0),
        ("birth_date", "not a date", "1985-04-01", "LOW", 0.0, 0.0),
        ("address", "123 Main Street", "123 MAIN ST, SPRINGFIELD, IL 62701", "HIGH", 1.0, 1.0),
        (
            "address",
            "125 Main St, Springfield IL",
            "123 MAIN ST, SPRINGFIELD, IL 62701",
            "MEDIUM",
            0.75,
            0.9,
        ),
        (
            "address",
            "9 Elm Road, Boston MA",
            "123 MAIN ST, SPRINGFIELD, IL 62701",
            "LOW",
            0.0,
            0.75,
        ),
    ],
)
def test_field_scores_and_confidences(field, probe, gallery, confidence, low, high):
    match = compare_field(field, probe, gallery)
    assert match.confidence == confidence
    assert low <= match.score <= high


@pytest.mark.parametrize(
    "text", ["1985-04-01", "1985/04/01", "19850401", "04/01/1985", "04011985", "1 Apr 1985",
             "April 1, 1985", "1985-04-01T00:00:00Z"],
)  # fmt: skip
def test_dates_in_usual_formats(text):
    assert parse_date(text) == date(1985, 4, 1)


def test_day_first_dates_when_month_first_is_impossible():
    assert parse_date("23/11/1979") == date(1979, 11, 23)
    assert parse_date("23.11.1979") == date(1979, 11, 23)


def test_options_pick_the_best_and_expression_is_a_regex():
    out = irm(
        {"given_name": "Johnny", "family_name": "Doe"},
        {"given_name": {"options": ["MARIA", "JOHNNY"]}, "family_name": {"expression": "d[oa]e"}},
    )
    assert out["detailedResults"]["given_name"]["galleryValue"] == "JOHNNY"
    assert out["detailedResults"]["given_name"]["confidence"] == "HIGH"
    assert out["detailedResults"]["family_name"]["rawScore"] == 1.0


def test_overall_is_weighted_and_thresholded():
    out = irm(
        {"given_name": "John", "family_name": "Smith"},
        {"given_name": {"value": "JOHN"}, "family_name": {"value": "DOE"}},
    )
    smith = out["detailedResults"]["family_name"]["rawScore"]
    assert out["overallWeightedScore"] == pytest.approx((0.2 * 1.0 + 0.3 * smith) / 0.5, abs=1e-4)
    assert out["overallConfidenceScore"] == "LOW"
    assert 0.0 <= out["overallWeightedScore"] <= 1.0


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"gallery": {}}, "probe"),
        ({"probe": {"given_name": "x"}}, "gallery"),
        ({"probe": {"nickname": "x"}, "gallery": {}}, "probe.nickname"),
        ({"probe": {"given_name": "x"}, "gallery": {"given_name": "x"}}, "gallery.given_name"),
        (
            {"probe": {"given_name": "x"}, "gallery": {"given_name": {"options": []}}},
            "gallery.given_name",
        ),
        (
            {"probe": {"given_name": "x"}, "gallery": {"given_name": {"expression": "("}}},
            "gallery.given_name",
        ),
        (
            {"probe": {"given_name": 3}, "gallery": {"given_name": {"value": "x"}}},
            "probe.given_name",
        ),
        ({"probe": {"given_name": "x"}, "gallery": {"family_name": {"value": "x"}}}, "probe"),
    ],
)
def test_bad_bodies_name_their_target(body, target):
    with pytest.raises(MatchInputError) as err:
        identity_record_matching(body)
    assert err.value.target == target

"""YAML reading with marks: locations, duplicate keys, the JSON-like dialect."""

from __future__ import annotations

import pytest

from flowengine import Location

# private: tests the YAML reader directly
from flowengine._reading.marked_yaml import load_yaml


def test_values_and_key_locations_are_one_based() -> None:
    doc = load_yaml("a:\n  b: [x, {c: 1}]\n", "f.yaml")
    assert doc.data == {"a": {"b": ["x", {"c": 1}]}}
    locations = doc.locations()
    assert locations[("a",)] == Location("f.yaml", 1, 1)
    assert locations[("a", "b")] == Location("f.yaml", 2, 3)
    assert doc.value_at(("a", "b")) == Location("f.yaml", 2, 6)
    assert locations[("a", "b", 1)] == Location("f.yaml", 2, 10)
    assert locations[("a", "b", 1, "c")] == Location("f.yaml", 2, 11)
    assert ("a", "x") not in locations and len(locations) == 5
    assert doc.key_at(("a", "b", 1, "missing")) == Location("f.yaml", 2, 10)
    assert doc.diagnostics == []


def test_keys_are_strings_and_only_true_false_are_booleans() -> None:
    doc = load_yaml(
        "on: {true: a, no: b, 404: c}\nv: [yes, off, True, false, 1990-01-01, 1.5, ~]\n", "f"
    )
    assert doc.data == {
        "on": {"true": "a", "no": "b", "404": "c"},
        "v": ["yes", "off", True, False, "1990-01-01", 1.5, None],
    }


def test_duplicate_keys_are_reported_where_the_second_one_is() -> None:
    doc = load_yaml("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n", "f.yaml")
    assert [str(d) for d in doc.diagnostics] == [
        "f.yaml:4:3: FE002 duplicate key 'c' (first written at line 3); remove one of them",
        "f.yaml:5:1: FE002 duplicate key 'a' (first written at line 1); remove one of them",
    ]
    assert doc.data == {"a": 3, "b": {"c": 2}}


def test_anchors_and_merge_keys() -> None:
    doc = load_yaml("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\nagain: *b\n", "f")
    assert doc.data["use"] == {"x": 1, "y": 3}
    assert doc.data["again"] == {"x": 1, "y": 2}
    assert doc.diagnostics == []


@pytest.mark.parametrize(
    ("text", "code", "where"),
    [
        ("a: [1, 2\nb: 3\n", "FE001", (2, 2)),
        ("a: b: c\n", "FE001", (1, 5)),
        ("a: !Ref x\n", "FE003", (1, 4)),
        ("? [a, b]\n: 1\n", "FE001", (1, 3)),
        ("a: &x [*x]\n", "FE001", (1, 4)),
    ],
)
def test_broken_yaml_is_a_diagnostic_with_location(
    text: str, code: str, where: tuple[int, int]
) -> None:
    doc = load_yaml(text, "f.yaml")
    assert [d.code for d in doc.diagnostics] == [code]
    assert (doc.diagnostics[0].location.line, doc.diagnostics[0].location.col) == where
    assert str(doc.diagnostics[0]).startswith(f"f.yaml:{where[0]}:{where[1]}: {code} ")


def test_empty_document() -> None:
    doc = load_yaml("# nothing\n", "f")
    assert doc.data is None and doc.diagnostics == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: 1\n---\nb: 2\n",
            "f:2:1: FE001 YAML syntax error: but found another document (expected a single "
            "document in the stream); a flow file holds one YAML document: remove this `---` "
            "and what follows",
        ),
        (
            "a:\n\tb: 1\n",
            "f:2:1: FE001 YAML syntax error: found character that cannot start any token "
            "(while scanning for the next token); YAML indents with spaces, never tabs: "
            "replace the tab with spaces",
        ),
    ],
)
def test_common_syntax_errors_say_the_fix(text: str, expected: str) -> None:
    assert [str(d) for d in load_yaml(text, "f").diagnostics] == [expected]

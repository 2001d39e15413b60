"""Trace: redaction of secrets and personal data, events, the JSONL sink."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flowengine.trace import REDACTED, JsonlTraceSink, make_event, redact, redact_event


def test_secrets_replaced_inside_strings_everywhere() -> None:
    value = {
        "auth": "Basic abc:s3cr3t",
        "list": ["s3cr3t", 1, None, {"deep": "x s3cr3t y s3cr3t"}],
        "clean": "nothing here",
    }
    out = redact(value, {"s3cr3t"})
    assert out == {
        "auth": f"Basic abc:{REDACTED}",
        "list": [REDACTED, 1, None, {"deep": f"x {REDACTED} y {REDACTED}"}],
        "clean": "nothing here",
    }
    assert value["auth"] == "Basic abc:s3cr3t"  # the original is untouched


def test_longer_secret_wins_over_its_prefix() -> None:
    assert redact("token=abcdef", {"abc", "abcdef"}) == f"token={REDACTED}"


def test_empty_secret_is_ignored() -> None:
    assert redact("keep me", {""}) == "keep me"


def test_personal_paths_with_wildcards() -> None:
    value: dict[str, Any] = {
        "user": {"email": "a@example.com", "id": "u1"},
        "documents": [{"number": "X123", "type": "passport"}, {"number": "Y9", "type": "id"}],
        "other": {"email": "not declared"},
    }
    out = redact(value, (), ("user.email", "documents.*.number", "missing.path", "other.*.x"))
    assert out == {
        "user": {"email": REDACTED, "id": "u1"},
        "documents": [{"number": REDACTED, "type": "passport"}, {"number": REDACTED, "type": "id"}],
        "other": {"email": "not declared"},
    }
    assert value["user"]["email"] == "a@example.com"
    assert redact({"a": ["x", "y"]}, (), ("a.1",)) == {"a": ["x", REDACTED]}
    assert redact({"a": {"b": 1}}, (), ("*",)) == {"a": REDACTED}


def test_event_redaction_covers_input_output_error() -> None:
    event = make_event(
        "r",
        "n",
        None,
        1,
        10.0,
        10.5,
        "error",
        {"user": {"email": "e@x"}, "key": "s3"},
        {"user": {"email": "e@x"}},
        {"message": "bad key s3"},
    )
    assert event["duration_ms"] == 500.0
    out = redact_event(event, {"s3"}, ("user.email",))
    assert out["input"] == {"user": {"email": REDACTED}, "key": REDACTED}
    assert out["output"] == {"user": {"email": REDACTED}}
    assert out["error"] == {"message": f"bad key {REDACTED}"}
    assert redact_event(event, (), ()) is event


def test_jsonl_sink_appends_lines(tmp_path: Path) -> None:
    sink = JsonlTraceSink(tmp_path / "traces" / "t.jsonl")
    sink(make_event("r", "a", None, 1, 0.0, 0.001, "success", {"x": 1}, {"y": 2}, None))
    sink(make_event("r", "b", "blk", 2, 0.0, 0.0, "error", None, None, {"code": "E"}))
    lines = (tmp_path / "traces" / "t.jsonl").read_text().splitlines()
    assert [json.loads(line)["node"] for line in lines] == ["a", "b"]
    assert json.loads(lines[1])["parent"] == "blk"
    assert set(json.loads(lines[0])) == {
        "run",
        "node",
        "parent",
        "visit",
        "start",
        "end",
        "duration_ms",
        "outcome",
        "input",
        "output",
        "error",
    }

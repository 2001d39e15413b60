"""Trace: redaction of secrets and personal data, events, the JSONL sink."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runtime_support import make_connector

from flowengine import (
    Answers,
    Engine,
    JsonlTraceSink,
    VirtualClock,
    drive,
    load_flow,
    load_registry,
)

# private: tests the redaction helpers themselves
from flowengine._redaction import REDACTED, redact, redact_parts

# private: tests the trace event shape directly
from flowengine._running.trace import make_event


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
    parts = event["input"], event["output"], event["error"]
    input, output, error = redact_parts(*parts, {"s3"}, ("user.email",))
    assert input == {"user": {"email": REDACTED}, "key": REDACTED}
    assert output == {"user": {"email": REDACTED}}
    assert error == {"message": f"bad key {REDACTED}"}


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


SCREEN_FLOW = """\
flow: screens
start: ask
nodes:
  ask:
    use: ui.form
    with: {fields: [name, id_number]}
    on: {success: checks}
  checks:
    parallel:
      copy:
        use: t.personal
        with:
          user: {email: "{{ nodes.ask.output.name }}@example.com", name: x}
          documents: [{number: "{{ nodes.ask.output.id_number }}", kind: passport}]
      plain:
        use: t.echo
        with: {n: 1}
    on: {success: show}
  show:
    use: ui.message
    with:
      title: "Welcome, {{ nodes.ask.output.name }}"
      message: "Verified ID number {{ nodes.ask.output.id_number }}"
    on: {success: done}
  done:
    use: ui.success
    with: {result: ok}
"""


async def _screen_run(tmp_path: Path, *, redact_personal_data: bool = True) -> tuple[Any, Path]:
    """Run SCREEN_FLOW to its end with a JSONL trace: the run and the trace file."""
    registry = load_registry()
    registry.add_connector(make_connector(), "test")
    (tmp_path / "screens.yaml").write_text(SCREEN_FLOW)
    flow = load_flow(tmp_path / "screens.yaml", registry)
    trace_file = tmp_path / "trace.jsonl"
    answers = Answers({"ask": {"name": "Zelda", "id_number": "D7654321"}})
    engine = Engine(
        registry,
        clock=VirtualClock(),
        environ={},
        trace_sinks=[JsonlTraceSink(trace_file)],
        redact_personal_data=redact_personal_data,
    )
    async with engine:
        started = await engine.start(flow)
        run = await engine.resume(started, answers.next_for("ask", 1), flow=flow)
        shown = run.waiting
        run = await drive(engine, run, flow)  # acknowledges the message
    assert run.status == "completed", run.error
    # What the screen shows is the interaction, never redacted.
    assert shown["interaction"]["data"] == {
        "title": "Welcome, Zelda",
        "message": "Verified ID number D7654321",
    }
    return run, trace_file


async def test_screen_text_and_parallel_outputs_are_redacted_in_traces(tmp_path: Path) -> None:
    run, trace_file = await _screen_run(tmp_path)
    for text in (trace_file.read_text(), json.dumps(run.trace)):
        assert "Zelda" not in text
        assert "D7654321" not in text
    events = {(e["node"], e["outcome"]): e for e in run.trace}
    waiting = events[("show", "waiting")]
    assert waiting["input"] == {"title": REDACTED, "message": REDACTED}
    assert waiting["output"]["data"] == {"title": REDACTED, "message": REDACTED}
    assert waiting["output"]["kind"] == "message"
    block = events[("checks", "success")]["output"]
    assert block["copy"]["user"] == {"email": REDACTED, "name": "x"}
    assert block["copy"]["documents"] == [{"number": REDACTED, "kind": "passport"}]
    assert block["plain"] == {"n": 1}
    # The run itself keeps the values: later nodes read them.
    assert run.nodes["checks"]["output"]["copy"]["documents"][0]["number"] == "D7654321"


async def test_screen_text_kept_in_traces_when_asked(tmp_path: Path) -> None:
    run, trace_file = await _screen_run(tmp_path, redact_personal_data=False)
    events = {(e["node"], e["outcome"]): e for e in run.trace}
    assert events[("show", "waiting")]["output"]["data"]["title"] == "Welcome, Zelda"
    assert events[("checks", "success")]["output"]["copy"]["user"]["email"] == ("Zelda@example.com")
    assert "D7654321" in trace_file.read_text()


async def test_the_engines_events_have_make_events_shape(tmp_path: Path) -> None:
    from runtime_support import load, make_registry

    from flowengine import Engine, VirtualClock

    registry = make_registry()
    flow = load(
        tmp_path, "flow: one\nstart: a\nnodes:\n  a: {use: t.echo, with: {x: 1}}\n", registry
    )
    async with Engine(registry, clock=VirtualClock(), environ={}) as engine:
        run = await engine.start(flow)
    (event,) = run.trace
    expected = make_event(
        run.id, "a", None, 1, event["start"], event["end"], "success", {}, {}, None
    )
    assert list(event) == list(expected)

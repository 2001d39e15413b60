"""Interactions: waiting, resuming (also from another process), digest pinning, redaction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from runtime_support import ASK_FLOW, load, write_flow
from store_files import stored_text

from flowengine import (
    Engine,
    FlowChangedError,
    Registry,
    RunError,
    SQLiteStore,
    VirtualClock,
    load_flow,
)

CHILD = Path(__file__).parent / "resume_child.py"


async def test_interaction_pauses_and_resume_continues(
    tmp_path: Path, registry: Registry, engine: Engine, clock: VirtualClock
) -> None:
    flow = load(tmp_path, ASK_FLOW, registry)
    run = await engine.start(flow, {"name": "Ada"})
    assert (run.status, run.exit_code) == ("waiting", 3)
    assert run.waiting == {
        "node": "question",
        "interaction": {"kind": "form", "data": {"fields": ["colour"]}, "poll_interval": None},
        "since": clock.now(),
        "visit": 1,
    }
    assert run.path == ["first"]
    assert run.nodes["question"]["visits"] == 1
    assert run.nodes["question"]["outcome"] == "waiting"
    assert (await engine.store.load(run.id)).status == "waiting"
    assert run.trace[-1]["outcome"] == "waiting"

    clock.advance(30)
    resumed = await engine.resume(run.id, {"colour": "blue"})
    assert resumed.status == "completed"
    assert resumed.waiting is None
    assert resumed.path == ["first", "question", "done"]
    assert resumed.result == {"colour": "blue", "greeting": "hello Ada"}
    assert resumed.nodes["question"] == {
        "output": {"answer": {"colour": "blue"}, "visit": 1},
        "error": None,
        "outcome": "success",
        "visits": 1,
    }
    assert [e["outcome"] for e in resumed.trace] == ["success", "waiting", "success", "success"]
    assert (await engine.store.load(run.id)).status == "completed"


async def test_interaction_can_ask_again(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(tmp_path, ASK_FLOW, registry)
    run = await engine.start(flow, {"name": "Ada"})
    run = await engine.resume(run, {"retry": True}, flow=flow)
    assert run.status == "waiting"
    assert run.waiting is not None
    assert run.waiting["interaction"]["data"] == {"fields": [], "errors": ["again"]}
    assert run.waiting["visit"] == 1
    run = await engine.resume(run, {"colour": "red"}, flow=flow)
    assert run.result == {"colour": "red", "greeting": "hello Ada"}


async def test_only_waiting_runs_resume(tmp_path: Path, registry: Registry, engine: Engine) -> None:
    flow = load(tmp_path, ASK_FLOW, registry)
    run = await engine.start(flow, {"name": "Ada"})
    run = await engine.resume(run.id, {"colour": "red"})
    with pytest.raises(RunError, match=f"Run {run.id} is completed, not waiting"):
        await engine.resume(run.id, {"colour": "red"})
    with pytest.raises(RunError, match="No run 'nope'"):
        await engine.resume("nope", {})


async def test_changed_flow_is_refused_unless_allowed(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(tmp_path, ASK_FLOW, registry)
    run = await engine.start(flow, {"name": "Ada"})
    changed = load(tmp_path, ASK_FLOW.replace("hello", "hi"), registry)
    assert changed.digest != flow.digest
    with pytest.raises(FlowChangedError) as info:
        await engine.resume(run.id, {"colour": "red"})  # reads the (changed) file itself
    assert info.value.run_id == run.id
    assert flow.digest in str(info.value)
    assert "allow_changed_flow=True" in str(info.value)
    assert (await engine.store.load(run.id)).status == "waiting"  # refused: nothing changed
    run = await engine.resume(run.id, {"colour": "red"}, flow=changed, allow_changed_flow=True)
    assert run.status == "completed"
    assert run.result == {"colour": "red", "greeting": "hello Ada"}  # `first` ran with the old text


async def test_timeout_applies_on_resume_after_a_long_wait(
    tmp_path: Path, registry: Registry, engine: Engine, clock: VirtualClock
) -> None:
    text = ASK_FLOW.replace("start: first", "settings: {timeout: 10m}\nstart: first")
    flow = load(tmp_path, text, registry)
    run = await engine.start(flow, {"name": "Ada"})
    clock.advance(601)
    run = await engine.resume(run.id, {"colour": "red"}, flow=flow)
    assert run.status == "failed"
    assert run.error is not None
    assert run.error["code"] == "TIMEOUT"
    assert run.error["node"] == "question"
    assert "question" not in run.path


async def test_waiting_run_resumed_by_another_process(tmp_path: Path, registry: Registry) -> None:
    db = tmp_path / "runs.db"
    flow = load_flow(write_flow(tmp_path, ASK_FLOW), registry)
    async with Engine(registry, store=SQLiteStore(db), environ={}) as engine:
        run = await engine.start(flow, {"name": "Ada"})
    assert run.status == "waiting"
    child = subprocess.run(
        [sys.executable, str(CHILD), str(db), run.id, json.dumps({"colour": "green"})],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout) == {
        "status": "completed",
        "path": ["first", "question", "done"],
        "result": {"colour": "green", "greeting": "hello Ada"},
    }
    stored = await SQLiteStore(db).load(run.id)
    assert stored.status == "completed"
    assert [e["node"] for e in stored.trace] == ["first", "question", "question", "done"]


SECRET_FLOW = """
flow: secrets
connections:
  api: {connector: t, settings: {token: "${API_TOKEN}"}}
  plain: {connector: t, settings: {token: "literal-token-42"}}
start: read
nodes:
  read:
    use: api.settings
    next: copy
  copy:
    use: t.personal
    with:
      token: "got {{ nodes.read.output.token }}"
      user: {email: a@example.com, name: Ada}
      documents: [{number: P123, kind: passport}]
    next: literal
  literal:
    use: plain.settings
    next: fail
  fail:
    use: t.fail
    with: {message: "denied for {{ nodes.read.output.token }}"}
"""


async def test_secrets_and_personal_data_redacted(
    tmp_path: Path, registry: Registry, clock: VirtualClock
) -> None:
    db = tmp_path / "runs.db"
    sink: list[dict[str, object]] = []
    flow = load(tmp_path, SECRET_FLOW, registry)
    engine = Engine(
        registry,
        store=SQLiteStore(db),
        clock=clock,
        environ={"API_TOKEN": "tok-SECRET-9"},
        trace_sinks=[sink.append],
    )
    run = await engine.start(flow)
    await engine.aclose()
    # the live run still has the real values for the flow to use
    assert run.nodes["copy"]["output"]["token"] == "got tok-SECRET-9"
    assert run.nodes["copy"]["output"]["user"]["email"] == "a@example.com"
    assert run.status == "failed"
    stored = stored_text(db)
    trace_text = json.dumps(run.trace)
    for text in (stored, trace_text, json.dumps(sink), json.dumps(run.error), repr(run)):
        assert "tok-SECRET-9" not in text
        assert "literal-token-42" not in text  # a secret setting, though written in the flow
    assert run.error is not None
    assert run.error["message"] == "denied for [REDACTED]"
    copy_event = next(e for e in run.trace if e["node"] == "copy")
    assert copy_event["input"] == {
        "token": "got [REDACTED]",
        "user": {"email": "[REDACTED]", "name": "Ada"},
        "documents": [{"number": "[REDACTED]", "kind": "passport"}],
    }
    assert sink == run.trace


async def test_personal_data_kept_when_asked(
    tmp_path: Path, registry: Registry, clock: VirtualClock
) -> None:
    flow = load(tmp_path, SECRET_FLOW, registry)
    engine = Engine(
        registry, clock=clock, environ={"API_TOKEN": "tok-SECRET-9"}, redact_personal_data=False
    )
    run = await engine.start(flow)
    await engine.aclose()
    copy_event = next(e for e in run.trace if e["node"] == "copy")
    assert copy_event["output"]["user"]["email"] == "a@example.com"
    assert copy_event["output"]["documents"][0]["number"] == "P123"
    assert copy_event["output"]["token"] == "got [REDACTED]"  # secrets: always


async def test_resume_without_flow_file_is_a_clear_error(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    path = write_flow(tmp_path, ASK_FLOW, "gone.yaml")
    run = await engine.start(load_flow(path, registry), {"name": "Ada"})
    path.unlink()
    with pytest.raises(RunError) as info:
        await engine.resume(run.id, {"colour": "red"})
    assert f"cannot read its flow file {path}" in str(info.value)


async def test_run_keeps_the_flow_files_absolute_path(
    tmp_path: Path, registry: Registry, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_flow(tmp_path, ASK_FLOW, "ask.yaml")
    monkeypatch.chdir(tmp_path)
    flow = load_flow("ask.yaml", registry)
    assert flow.file == "ask.yaml"  # the spec keeps the path as given
    run = await engine.start(flow, {"name": "Ada"})
    assert run.flow_file == str((tmp_path / "ask.yaml").resolve())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # resume reads the flow from its stored path
    resumed = await engine.resume(run.id, {"colour": "red"})
    assert resumed.status == "completed", resumed.error


async def test_a_flow_from_text_keeps_its_name(registry: Registry, engine: Engine) -> None:
    flow = load_flow("<ask>", registry, text=ASK_FLOW)
    run = await engine.start(flow, {"name": "Ada"})
    assert run.flow_file == "<ask>"

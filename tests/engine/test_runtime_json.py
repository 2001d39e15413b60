"""Runtime: a plugin's output, Outcome output and interaction data must be JSON the store keeps."""

from __future__ import annotations

import datetime
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from runtime_support import OBJ, load

from flowengine import (
    CallContext,
    Connector,
    Engine,
    Interaction,
    Outcome,
    Registry,
    SQLiteStore,
    VirtualClock,
)

VALUES: dict[str, Any] = {}
"""What the `j` connector's capabilities return, by test."""


def _deep(depth: int) -> dict[str, Any]:
    top = inner = {}
    for _ in range(depth):
        inner["a"] = {}
        inner = inner["a"]
    return top


def _cyclic() -> dict[str, Any]:
    value: dict[str, Any] = {"list": []}
    value["list"].append(value)
    return value


def _refuse(name: str) -> None:
    raise AssertionError(f"the stored run holds {name}, which is not JSON")


class _Thing:
    pass


BOTH = ("success", "other")


def _registry() -> Registry:
    conn = Connector(name="j")

    @conn.capability(input_schema=OBJ, output_schema=OBJ, outcomes=BOTH)
    def out(inputs: dict[str, Any], ctx: CallContext) -> Any:
        return {"value": VALUES["out"]}

    @conn.capability(input_schema=OBJ, output_schema=OBJ, outcomes=BOTH)
    def other(inputs: dict[str, Any], ctx: CallContext) -> Any:
        return Outcome("other", {"value": VALUES["out"]})

    @conn.capability(input_schema=OBJ, output_schema=OBJ, interactive=True, outcomes=BOTH)
    def ask(inputs: dict[str, Any], ctx: CallContext) -> Any:
        return Interaction("form", {"fields": [], "extra": VALUES["out"]})

    @conn.capability(input_schema=OBJ, output_schema=OBJ, interactive=True)
    def form(inputs: dict[str, Any], ctx: CallContext) -> Any:
        if ctx.response is None:
            return Interaction("form", {"fields": []})
        return {"ok": True}

    registry = Registry()
    registry.add_connector(conn, "test")
    return registry


FLOW = """
flow: not-json
start: first
nodes:
  first:
    use: j.form
    next: call
  call:
    use: j.{capability}
    on: {{success: done, other: done, error: handled}}
  done:
    use: j.form
  handled:
    use: j.form
"""

CASES = [
    (_deep(5000), "objects or arrays nested more than 100 deep"),
    (_cyclic(), "contains itself"),
    ({"when": datetime.date(2026, 1, 1)}, "a datetime.date"),
    ({"tags": {"a", "b"}}, "a set"),
    ([b"raw"], "a bytes"),
    ({"n": float("nan")}, "a float NaN"),
    ({"n": [1, float("inf")]}, "a float infinity"),
    ({1: "one"}, "a key of type int"),
    (_Thing(), "a test_runtime_json._Thing"),
]


@pytest.mark.parametrize(("value", "found"), CASES)
@pytest.mark.parametrize("capability", ["out", "other", "ask"])
async def test_a_value_that_is_not_json_is_the_nodes_error(
    tmp_path: Path, clock: VirtualClock, value: Any, found: str, capability: str
) -> None:
    registry = _registry()
    VALUES["out"] = value
    flow = load(tmp_path, FLOW.format(capability=capability), registry)
    store = SQLiteStore(tmp_path / "runs.db")
    async with Engine(registry, store=store, clock=clock, environ={}) as engine:
        run = await engine.start(flow)
        assert run.waiting and run.waiting["node"] == "first"
        run = await engine.resume(run.id, {})
    error = run.nodes["call"]["error"]
    assert error is not None and error["code"] == "OUTPUT_NOT_JSON"
    assert found in error["message"] and "'call'" in error["message"]
    if found == "contains itself":
        where = "$.extra" if capability == "ask" else "$.value"
        assert f"a cycle: the dict at {where} contains itself" in error["message"]
    assert error["details"][0]["json_path"].startswith("$")
    # the error is routed (to `handled`, which waits): the store holds exactly that
    stored = await store.load(run.id)
    assert stored.status == "waiting" and stored.waiting
    assert stored.waiting["node"] == "handled"
    assert stored.nodes["call"]["error"] == error
    with sqlite3.connect(tmp_path / "runs.db") as db:
        body = db.execute("SELECT body FROM runs").fetchone()[0]
    json.loads(body, parse_constant=_refuse)  # strict JSON: no NaN, no Infinity
    assert "_Thing object" not in body and "datetime.date(" not in body


async def test_json_paths_name_where_and_never_the_value(
    tmp_path: Path, clock: VirtualClock
) -> None:
    registry = _registry()
    VALUES["out"] = {"user": {"emails": ["a@b.c", {"since": datetime.datetime(2026, 1, 1)}]}}
    flow = load(tmp_path, FLOW.format(capability="out"), registry)
    async with Engine(registry, clock=clock, environ={}) as engine:
        run = await engine.resume(await engine.start(flow), {})
    error = run.nodes["call"]["error"]
    assert error is not None
    assert error["details"] == [
        {"json_path": "$.value.user.emails[1].since", "found": "a datetime.datetime"}
    ]
    assert "a@b.c" not in error["message"] and "2026" not in error["message"]


async def test_plain_json_passes_and_tuples_are_arrays(tmp_path: Path, clock: VirtualClock) -> None:
    registry = _registry()
    VALUES["out"] = {"a": [1, 2.5, "x", None, True, {"b": (1, 2)}], "deep": _deep(90)}
    flow = load(tmp_path, FLOW.format(capability="out"), registry)
    store = SQLiteStore(tmp_path / "runs.db")
    async with Engine(registry, store=store, clock=clock, environ={}) as engine:
        run = await engine.resume(await engine.start(flow), {})
    assert run.nodes["call"]["outcome"] == "success"
    assert (await store.load(run.id)).nodes["call"]["output"]["value"]["a"][5] == {"b": [1, 2]}


class _BrokenStore:
    """A store that cannot write some runs (a value slipped past the checks, a full disk)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.saved: list[dict[str, Any]] = []

    async def save(self, run: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise ValueError("Circular reference detected")
        self.saved.append(json.loads(json.dumps(run.to_dict())))

    async def load(self, run_id: str) -> Any:
        raise NotImplementedError


async def test_a_store_write_error_fails_the_run_instead_of_leaving_it_waiting(
    tmp_path: Path, clock: VirtualClock
) -> None:
    registry = _registry()
    VALUES["out"] = {"fine": 1}
    flow = load(tmp_path, FLOW.format(capability="out"), registry)
    store = _BrokenStore(failures=1)
    async with Engine(registry, store=store, clock=clock, environ={}) as engine:  # type: ignore[arg-type]
        run = await engine.start(flow)
    assert run.status == "failed" and run.error is not None
    assert run.error["code"] == "STORE_WRITE_FAILED"
    assert "Circular reference detected" in run.error["message"]
    assert store.saved[-1]["status"] == "failed"
    assert store.saved[-1]["error"]["code"] == "STORE_WRITE_FAILED"


async def test_a_store_that_never_writes_is_one_clear_error(
    tmp_path: Path, clock: VirtualClock
) -> None:
    from flowengine import RunError

    registry = _registry()
    flow = load(tmp_path, FLOW.format(capability="out"), registry)
    store = _BrokenStore(failures=2)
    async with Engine(registry, store=store, clock=clock, environ={}) as engine:  # type: ignore[arg-type]
        with pytest.raises(RunError, match="could not be saved"):
            await engine.start(flow)

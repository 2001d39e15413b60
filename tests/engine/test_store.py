"""Run stores: round trips, listing, unknown ids, URLs, and no secrets at rest."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from flowengine import MemoryStore, Run, RunConflictError, RunError, SQLiteStore, open_store


def make_run(run_id: str, status: str = "waiting", updated: float = 1.0) -> Run:
    return Run(
        id=run_id,
        flow_id="demo",
        flow_file="flows/demo.yaml",
        flow_digest="sha256:abc",
        status=status,
        inputs={"name": "Ada"},
        vars={"attempts": 2},
        nodes={"a": {"output": {"x": [1, 2]}, "error": None, "outcome": "success", "visits": 1}},
        path=["a"],
        waiting={"node": "b", "interaction": {"kind": "form", "data": {}}, "since": 5.0},
        trace=[{"run": run_id, "node": "a", "outcome": "success"}],
        created_at=0.5,
        updated_at=updated,
        started_at=0.5,
    )


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MemoryStore | SQLiteStore:
    if request.param == "memory":
        return MemoryStore()
    return SQLiteStore(tmp_path / "sub" / "runs.db")


async def test_round_trip(store: MemoryStore | SQLiteStore) -> None:
    run = make_run("r1")
    await store.save(run)
    loaded = await store.load("r1")
    assert loaded is not run
    assert loaded.to_dict() == run.to_dict()


async def test_loaded_run_does_not_alias_the_saved_one(store: MemoryStore | SQLiteStore) -> None:
    run = make_run("r1")
    await store.save(run)
    run.path.append("b")
    run.nodes["b"] = {"output": None, "error": None, "outcome": "success", "visits": 1}
    loaded = await store.load("r1")
    assert loaded.path == ["a"]
    assert "b" not in loaded.nodes
    loaded.trace.append({"node": "x"})
    assert len((await store.load("r1")).trace) == 1


async def test_save_replaces(store: MemoryStore | SQLiteStore) -> None:
    run = make_run("r1")
    await store.save(run)
    run.status, run.waiting, run.result = "completed", None, {"ok": True}
    await store.save(run)
    loaded = await store.load("r1")
    assert (loaded.status, loaded.waiting, loaded.result) == ("completed", None, {"ok": True})
    assert len(await store.list()) == 1


async def test_list_newest_first_by_status_with_limit(store: MemoryStore | SQLiteStore) -> None:
    await store.save(make_run("old", "completed", updated=1.0))
    await store.save(make_run("mid", "waiting", updated=2.0))
    await store.save(make_run("new", "completed", updated=3.0))
    assert [r.id for r in await store.list()] == ["new", "mid", "old"]
    assert [r.id for r in await store.list(status="completed")] == ["new", "old"]
    assert [r.id for r in await store.list(limit=1)] == ["new"]
    assert await store.list(status="failed") == []


async def test_unknown_run(store: MemoryStore | SQLiteStore) -> None:
    with pytest.raises(RunError) as info:
        await store.load("nope")
    assert info.value.run_id == "nope"
    assert "No run 'nope'" in str(info.value)


async def test_secrets_never_stored(tmp_path: Path) -> None:
    run = make_run("r1")
    run.nodes["a"]["output"] = {"token": "Bearer s3cr3t-value", "user": "ada"}
    run.error = {"node": "a", "code": "E", "message": "auth failed for s3cr3t-value"}
    run.secrets = {"s3cr3t-value"}
    store = SQLiteStore(tmp_path / "runs.db")
    await store.save(run)
    with sqlite3.connect(tmp_path / "runs.db") as conn:
        (body,) = conn.execute("SELECT body FROM runs WHERE id = 'r1'").fetchone()
    conn.close()
    assert "s3cr3t" not in body
    stored = json.loads(body)
    assert stored["nodes"]["a"]["output"] == {"token": "Bearer [REDACTED]", "user": "ada"}
    assert stored["error"]["message"] == "auth failed for [REDACTED]"
    assert "secrets" not in stored
    memory = MemoryStore()
    run.version = 0  # a new store: the run is new to it
    await memory.save(run)
    assert "s3cr3t" not in json.dumps((await memory.load("r1")).to_dict())
    assert run.nodes["a"]["output"]["token"] == "Bearer s3cr3t-value"  # the live run keeps it


async def test_sqlite_table_columns(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "runs.db")
    await store.save(make_run("r1", "waiting", updated=7.0))
    with sqlite3.connect(tmp_path / "runs.db") as conn:
        row = conn.execute("SELECT id, flow_id, status, updated_at FROM runs").fetchone()
    conn.close()
    assert row == ("r1", "demo", "waiting", 7.0)


def test_open_store_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(open_store("memory:"), MemoryStore)
    absolute = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    assert isinstance(absolute, SQLiteStore)
    assert absolute.path == tmp_path / "a.db"
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///.flowengine/runs.db")
    assert isinstance(relative, SQLiteStore)
    assert (tmp_path / ".flowengine" / "runs.db").is_file()
    with pytest.raises(RunError, match="Unknown run store URL 'redis://x'"):
        open_store("redis://x")
    with pytest.raises(RunError, match="no file path"):
        open_store("sqlite:///")


def test_run_json_round_trip_keeps_every_field() -> None:
    run = make_run("r1")
    run.result, run.error = {"r": 1}, {"node": "a", "code": "X", "message": "m"}
    again = Run.from_dict(json.loads(json.dumps(run.to_dict())))
    assert again.to_dict() == run.to_dict()
    assert again.exit_code == 3


def _stored_body(path: Path, run_id: str) -> str:
    with sqlite3.connect(path) as conn:
        (body,) = conn.execute("SELECT body FROM runs WHERE id = ?", (run_id,)).fetchone()
    conn.close()
    return str(body)


def _block_run(run_id: str) -> Run:
    """A run whose parallel block's output holds its branches' very outputs (as the engine's)."""
    run = make_run(run_id, "completed")
    image = {"image": "QUJD" * 5000, "kind": "FRONT_IMAGE"}
    meta = {"checks": [{"type": "LIVENESS", "status": "SUCCESS"}]}
    for branch, output in (("images", image), ("meta", meta)):
        run.nodes[branch] = {"output": output, "error": None, "outcome": "success", "visits": 1}
    run.nodes["block"] = {
        "output": {"images": image, "meta": meta, "gone": None},
        "error": None,
        "outcome": "success",
        "visits": 1,
    }
    return run


async def test_sqlite_stores_a_blocks_branch_outputs_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "runs.db")
    run = _block_run("r1")
    await store.save(run)
    body = _stored_body(tmp_path / "runs.db", "r1")
    assert body.count("QUJD" * 5000) == 1  # not again under the block
    assert json.loads(body)["shared_outputs"] == {"block": ["images", "meta"]}
    loaded = await store.load("r1")
    assert loaded.to_dict() == run.to_dict()
    assert loaded.nodes["block"]["output"]["images"] is loaded.nodes["images"]["output"]
    await store.save(loaded)  # a loaded run packs again: the same objects once more
    assert _stored_body(tmp_path / "runs.db", "r1").count("QUJD" * 5000) == 1
    assert [r.to_dict() for r in await store.list()] == [loaded.to_dict()]


async def test_sqlite_keeps_equal_but_separate_outputs_whole(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "runs.db")
    run = make_run("r1")
    copied = {"x": [1, 2]}  # equal to node a's output, not the same object: stored as is
    run.nodes["b"] = {"output": {"a": copied, "n": 1}, "error": None, "outcome": "success"}
    await store.save(run)
    stored = json.loads(_stored_body(tmp_path / "runs.db", "r1"))
    assert "shared_outputs" not in stored
    assert stored["nodes"]["b"]["output"] == {"a": {"x": [1, 2]}, "n": 1}
    assert (await store.load("r1")).to_dict() == run.to_dict()


async def test_sqlite_refuses_what_is_not_json_instead_of_storing_its_text(tmp_path: Path) -> None:
    import datetime

    store = SQLiteStore(tmp_path / "runs.db")
    run = Run(id="r1", flow_id="f", flow_file="f.yaml", flow_digest="d")
    run.vars["when"] = datetime.date(2026, 1, 1)
    with pytest.raises(TypeError, match="not JSON serializable"):
        await store.save(run)
    run.vars["when"] = float("nan")
    with pytest.raises(ValueError, match="not JSON compliant"):
        await store.save(run)
    with pytest.raises(RunError):
        await store.load("r1")  # nothing half-written


async def test_a_save_from_a_stale_copy_is_a_conflict_and_writes_nothing(
    store: MemoryStore | SQLiteStore,
) -> None:
    await store.save(make_run("r1"))
    first, second = await store.load("r1"), await store.load("r1")
    first.vars["attempts"] = 3
    await store.save(first)
    second.vars["attempts"] = 9
    with pytest.raises(RunConflictError) as caught:
        await store.save(second)
    assert caught.value.stored == 2 and "read at version 1" in str(caught.value)
    assert (await store.load("r1")).vars["attempts"] == 3


async def test_list_by_flow_and_deadline_and_prune_ended_runs(
    store: MemoryStore | SQLiteStore,
) -> None:
    old_done = make_run("old", "completed", updated=1.0)
    late = make_run("late", "waiting", updated=2.0)
    late.deadline, late.flow_id = 10.0, "other"
    new_done = make_run("new", "failed", updated=30.0)
    for run in (old_done, late, new_done):
        await store.save(run)
    assert [r.id for r in await store.list(flow_id="other")] == ["late"]
    assert [r.id for r in await store.list(deadline_before=11.0)] == ["late"]
    assert await store.list(deadline_before=10.0) == []
    assert await store.prune(ended_before=20.0) == 1  # the waiting run stays
    assert sorted(r.id for r in await store.list()) == ["late", "new"]

"""Parallel blocks: concurrency, results per branch, cancellation on error, no interactions."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from runtime_support import EVENTS, load

from flowengine import Engine, Registry, SQLiteStore, VirtualClock

BLOCK = """
flow: par
start: prepare
nodes:
  prepare:
    use: t.echo
    with: {id: doc-1}
    next: read
  read:
    parallel:
      left: {use: t.slow, with: {steps: LEFT, fail: LEFT_FAILS}}
      right: {use: t.slow, with: {steps: 3}}
      quick: {use: t.echo, with: {from: "{{ nodes.prepare.output.id }}"}}
    on: {success: show, error: handle}
  show:
    use: t.echo
    with: {left: "{{ nodes.left.output.node }}", all: "{{ nodes.read.output }}"}
  handle:
    use: t.echo
    with: {failed: "{{ nodes.read.error.branch }}", why: "{{ nodes.read.error.message }}"}
"""


def block(left_steps: int, left_fails: bool) -> str:
    return BLOCK.replace("LEFT_FAILS", str(left_fails).lower()).replace("LEFT", str(left_steps))


async def test_branches_run_concurrently_and_are_addressable(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(tmp_path, block(5, False), registry)
    run = await engine.start(flow)
    assert run.status == "completed"
    # both async branches started before either ended: they ran at the same time
    assert EVENTS.index("start right") < EVENTS.index("end left")
    assert EVENTS.index("start left") < EVENTS.index("end right")
    assert run.path[0] == "prepare"
    assert set(run.path[1:4]) == {"left", "right", "quick"}
    assert run.path[4:] == ["read", "show"]
    assert run.nodes["read"]["outcome"] == "success"
    assert run.result == {
        "left": "left",
        "all": {
            "left": {"node": "left", "steps": 5},
            "right": {"node": "right", "steps": 3},
            "quick": {"from": "doc-1"},
        },
    }
    parents = {e["node"]: e["parent"] for e in run.trace}
    assert parents == {
        "prepare": None,
        "left": "read",
        "right": "read",
        "quick": "read",
        "read": None,
        "show": None,
    }


async def test_error_in_a_branch_cancels_the_others(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(tmp_path, block(1, True).replace("steps: 3", "steps: 50"), registry)
    run = await engine.start(flow)
    assert "fail left" in EVENTS
    assert "cancelled right" in EVENTS
    assert "end right" not in EVENTS
    assert run.nodes["right"]["outcome"] == "cancelled"
    assert run.nodes["right"]["error"]["code"] == "CANCELLED"
    assert run.nodes["left"]["outcome"] == "error"
    assert run.nodes["read"]["outcome"] == "error"
    assert run.status == "completed"
    assert run.path[-2:] == ["read", "handle"]
    assert "right" not in run.path
    assert run.result == {"failed": "left", "why": "left failed"}
    cancelled = [e for e in run.trace if e["outcome"] == "cancelled"]
    assert [e["node"] for e in cancelled] == ["right"]


async def test_unrouted_block_error_fails_the_run(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    text = block(1, True).replace("on: {success: show, error: handle}", "next: show")
    text = text[: text.index("  handle:")]
    run = await engine.start(load(tmp_path, text, registry))
    assert run.status == "failed"
    assert run.error is not None
    assert run.error["node"] == "read"
    assert run.error["branch"] == "left"
    assert run.error["code"] == "BRANCH_FAILED"


async def test_interaction_inside_a_branch_is_an_error(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(
        tmp_path,
        """
        flow: par_ask
        start: both
        nodes:
          both:
            parallel:
              asking: {use: t.slow, with: {ask: true}}
              other: {use: t.slow, with: {steps: 20}}
        """,
        registry,
    )
    run = await engine.start(flow)
    assert run.status == "failed"
    assert run.waiting is None
    assert run.error is not None
    assert run.error["code"] == "INTERACTION_IN_PARALLEL"
    assert run.error["message"] == (
        "Node 'asking' (a branch of parallel block 'both') asked for a 'form' interaction; "
        "interactions are not supported inside parallel branches: move this node out of the block"
    )
    assert "cancelled other" in EVENTS


async def test_block_in_a_loop_counts_visits(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(
        tmp_path,
        """
        flow: par_loop
        variables: {n: 0}
        start: count
        nodes:
          count:
            use: t.setvar
            with: {n: "{{ vars.n + 1 }}"}
            next: blk
          blk:
            parallel:
              a: {use: t.echo, with: {n: "{{ vars.n }}"}}
              b: {use: t.slow}
            next: again
          again:
            use: t.check
            with: {value: "{{ vars.n < 3 }}"}
            on: {"true": count}
        """,
        registry,
    )
    run = await engine.start(flow)
    assert run.status == "completed"
    assert run.nodes["blk"]["visits"] == 3
    assert run.nodes["a"] == {"output": {"n": 3}, "error": None, "outcome": "success", "visits": 3}


async def test_sqlite_store_keeps_a_blocks_outputs_once(
    tmp_path: Path, registry: Registry, clock: VirtualClock
) -> None:
    flow = load(tmp_path, block(2, False), registry)
    store = SQLiteStore(tmp_path / "runs.db")
    async with Engine(registry, clock=clock, environ={}, store=store) as engine:
        run = await engine.start(flow)
    with closing(sqlite3.connect(tmp_path / "runs.db")) as conn:
        (body,) = conn.execute("SELECT body FROM runs").fetchone()
    stored = json.loads(body)
    assert sorted(stored["shared_outputs"]["read"]) == ["left", "quick", "right"]
    assert stored["nodes"]["read"]["output"] == {"left": None, "right": None, "quick": None}
    loaded = await store.load(run.id)
    assert loaded.nodes["read"]["output"] == run.nodes["read"]["output"]
    assert loaded.nodes["read"]["output"]["left"] == {"node": "left", "steps": 2}

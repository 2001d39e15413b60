"""Runtime: a run whose task is cancelled (Ctrl-C) while a node runs is saved failed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from runtime_support import load

from flowengine import Engine, MemoryStore, Registry, VirtualClock


async def test_cancelling_a_running_node_saves_the_run_failed_interrupted(
    tmp_path: Path, registry: Registry, clock: VirtualClock
) -> None:
    flow = load(
        tmp_path,
        """
        flow: hangs
        start: first
        nodes:
          first: {use: t.echo, with: {a: 1}, next: stuck}
          stuck: {use: t.hang, with: {seconds: 1}}
        """,
        registry,
    )
    store = MemoryStore()
    async with Engine(registry, store=store, clock=clock, environ={}) as engine:
        task = asyncio.ensure_future(engine.start(flow))
        for _ in range(20):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        run = engine.interrupted
    assert run is not None
    stored = await store.load(run.id)
    assert stored.status == "failed" and stored.waiting is None
    assert stored.error is not None and stored.error["code"] == "INTERRUPTED"
    assert stored.error["node"] == "stuck"
    assert stored.nodes["stuck"]["outcome"] == "interrupted"
    assert stored.nodes["first"]["outcome"] == "success"


async def test_cancelling_a_parallel_block_cancels_its_branches(
    tmp_path: Path, registry: Registry, clock: VirtualClock
) -> None:
    flow = load(
        tmp_path,
        """
        flow: hangs-in-parallel
        start: both
        nodes:
          both:
            parallel:
              one: {use: t.hang}
              two: {use: t.hang}
        """,
        registry,
    )
    store = MemoryStore()
    async with Engine(registry, store=store, clock=clock, environ={}) as engine:
        task = asyncio.ensure_future(engine.start(flow))
        for _ in range(20):
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert engine.interrupted is not None
        stored = await store.load(engine.interrupted.id)
    assert stored.status == "failed" and stored.error is not None
    assert (stored.error["code"], stored.error["node"]) == ("INTERRUPTED", "both")
    assert stored.nodes["both"]["outcome"] == "interrupted"
    for branch in ("one", "two"):
        error = stored.nodes[branch]["error"]
        assert error is not None and "because the run was interrupted" in error["message"]

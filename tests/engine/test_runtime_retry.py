"""Runtime: a node's `retry:` and `timeout:`, on a virtual clock (no real sleeps)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest
from runtime_support import OBJ, load

from flowengine import (
    CallContext,
    Connector,
    ConnectorError,
    Engine,
    FlowDefinitionError,
    Registry,
    VirtualClock,
)

SCRIPT: list[Any] = []
"""What each call of `r.readThing` does, in order: an exception to raise, or an output."""
CALLS: list[float] = []
"""When (virtual time) each call of a `r` capability started."""


def _registry() -> Registry:
    conn = Connector(name="r")

    @conn.capability(input_schema=OBJ, output_schema=OBJ)
    async def readThing(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        CALLS.append(ctx.clock.now())
        step = SCRIPT.pop(0) if SCRIPT else {"ok": True}
        if isinstance(step, BaseException):
            raise step
        return dict(step)

    @conn.capability(input_schema=OBJ, output_schema=OBJ)
    async def createThing(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        CALLS.append(ctx.clock.now())
        raise ConnectorError("limited", code="REQUEST_LIMITED", status_code=429)

    @conn.capability(input_schema=OBJ, output_schema=OBJ, idempotent=True)
    async def sleepy(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        CALLS.append(ctx.clock.now())
        for _ in range(int(inputs["seconds"])):  # a slow call: a deadline cancels it between
            await ctx.clock.sleep(1.0)
            await asyncio.sleep(0)
        return {"slept": inputs["seconds"]}

    registry = Registry()
    registry.add_connector(conn, "test")
    SCRIPT.clear()
    CALLS.clear()
    return registry


def _limited(retry_after: float | None = None) -> ConnectorError:
    return ConnectorError(
        "Too many requests", code="REQUEST_LIMITED", status_code=429, retry_after=retry_after
    )


def _flow(tmp_path: Path, registry: Registry, node: str) -> Any:
    text = f"""
        flow: retries
        start: call
        nodes:
          call:
{node}
            on: {{success: done, error: failed}}
          done:
            use: r.readThing
          failed:
            use: r.readThing
        """
    return load(tmp_path, text, registry)


def _retrying(run: Any) -> list[dict[str, Any]]:
    return [e for e in run.trace if e["outcome"] == "retrying"]


async def test_429_then_success(tmp_path: Path, clock: VirtualClock) -> None:
    registry = _registry()
    flow = _flow(
        tmp_path,
        registry,
        """            use: r.readThing
            retry: {on: [REQUEST_LIMITED], interval: 2s}""",
    )
    SCRIPT.extend([_limited(), {"value": 42}])
    async with Engine(registry, clock=clock, environ={}) as engine:
        start = clock.now()
        run = await engine.start(flow)
    assert run.path == ["call", "done"]
    assert run.nodes["call"] == {
        "output": {"value": 42},
        "error": None,
        "outcome": "success",
        "visits": 1,
    }
    assert CALLS[:2] == [start, start + 2.0]
    (retry,) = _retrying(run)
    assert (retry["node"], retry["attempt"], retry["retry_in"]) == ("call", 1, 2.0)
    assert retry["error"]["code"] == "REQUEST_LIMITED"
    final = next(e for e in run.trace if e["node"] == "call" and e["outcome"] == "success")
    assert final["attempt"] == 2


async def test_backoff_and_max_delay_then_the_error_is_routed(
    tmp_path: Path, clock: VirtualClock
) -> None:
    registry = _registry()
    flow = _flow(
        tmp_path,
        registry,
        """            use: r.readThing
            retry: {on: [REQUEST_LIMITED], max_attempts: 4, interval: 1, backoff_rate: 3,
                    max_delay: 5s}""",
    )
    SCRIPT.extend([_limited() for _ in range(5)])
    async with Engine(registry, clock=clock, environ={}) as engine:
        run = await engine.start(flow)
    assert [e["retry_in"] for e in _retrying(run)] == [1.0, 3.0, 5.0, 5.0]
    gaps = [b - a for a, b in itertools.pairwise(CALLS[:5])]
    assert gaps == [1.0, 3.0, 5.0, 5.0]
    assert run.path == ["call", "failed"]  # 1 call + 4 retries, then the error route
    assert run.nodes["call"]["outcome"] == "error"
    assert run.nodes["call"]["error"]["code"] == "REQUEST_LIMITED"


async def test_full_jitter_stays_within_bounds(tmp_path: Path, clock: VirtualClock) -> None:
    registry = _registry()
    flow = _flow(
        tmp_path,
        registry,
        """            use: r.readThing
            retry: {on: ["*"], max_attempts: 6, interval: 2, backoff_rate: 2, max_delay: 20,
                    jitter: full}""",
    )
    delays: list[float] = []
    async with Engine(registry, clock=clock, environ={}) as engine:
        for _ in range(20):
            SCRIPT.clear()
            SCRIPT.extend([_limited() for _ in range(7)])
            run = await engine.start(flow)
            found = [e["retry_in"] for e in _retrying(run)]
            assert len(found) == 6
            for n, delay in enumerate(found, start=1):
                assert 0.0 <= delay <= min(2.0 * 2 ** (n - 1), 20.0)
            delays += found
    assert len(set(delays)) > 100  # random, not the computed delays themselves


async def test_retry_after_is_honoured_and_bounded_by_max_delay(
    tmp_path: Path, clock: VirtualClock
) -> None:
    registry = _registry()
    flow = _flow(
        tmp_path,
        registry,
        """            use: r.readThing
            retry: {on: [REQUEST_LIMITED], interval: 1, max_delay: 60}""",
    )
    SCRIPT.extend([_limited(retry_after=30), {"ok": 1}])
    async with Engine(registry, clock=clock, environ={}) as engine:
        run = await engine.start(flow)
        assert [e["retry_in"] for e in _retrying(run)] == [30.0]
        assert CALLS[1] - CALLS[0] == 30.0
        assert run.path == ["call", "done"]
        # The service asks for more than max_delay: no retry, the error now, with retry_after.
        SCRIPT.clear()
        CALLS.clear()
        SCRIPT.extend([_limited(retry_after=120), {"ok": 1}])
        run = await engine.start(flow)
    assert _retrying(run) == [] and len(CALLS) == 2  # `call` once, then `failed`
    assert run.path == ["call", "failed"]
    assert run.nodes["call"]["error"]["retry_after"] == 120


async def test_codes_not_listed_are_not_retried(tmp_path: Path, clock: VirtualClock) -> None:
    registry = _registry()
    flow = _flow(
        tmp_path,
        registry,
        """            use: r.readThing
            retry: {on: [SERVICE_UNAVAILABLE]}""",
    )
    SCRIPT.extend([_limited(), {"ok": 1}])
    async with Engine(registry, clock=clock, environ={}) as engine:
        run = await engine.start(flow)
    assert _retrying(run) == [] and run.path == ["call", "failed"]


def test_a_retry_of_an_unsafe_capability_is_a_validation_error(tmp_path: Path) -> None:
    registry = _registry()
    with pytest.raises(FlowDefinitionError) as caught:
        _flow(
            tmp_path,
            registry,
            """            use: r.createThing
            retry: {on: [REQUEST_LIMITED]}""",
        )
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "FE090"
    assert "r.createThing, which is not idempotent" in diagnostic.message
    assert diagnostic.location.line == 6


async def test_an_unsafe_capability_is_called_once(tmp_path: Path, clock: VirtualClock) -> None:
    registry = _registry()
    flow = _flow(tmp_path, registry, "            use: r.createThing")
    async with Engine(registry, clock=clock, environ={}) as engine:
        run = await engine.start(flow)
    assert len(CALLS) == 2  # createThing once, then `failed`
    assert run.path == ["call", "failed"]


async def test_a_node_timeout_cancels_the_call_and_routes_timeout(
    tmp_path: Path, clock: VirtualClock
) -> None:
    registry = _registry()
    flow = _flow(
        tmp_path,
        registry,
        """            use: r.sleepy
            with: {seconds: 100}
            timeout: 30s""",
    )
    async with Engine(registry, clock=clock, environ={}) as engine:
        start = clock.now()
        run = await engine.start(flow)
    assert run.path == ["call", "failed"]
    error = run.nodes["call"]["error"]
    assert error is not None and error["code"] == "TIMEOUT"
    assert "'call' was still running after its timeout of 30s" in error["message"]
    assert CALLS[1] == start + 30.0  # `failed` ran when the deadline cancelled the call


async def test_a_timeout_can_be_retried(tmp_path: Path, clock: VirtualClock) -> None:
    registry = _registry()
    flow = _flow(
        tmp_path,
        registry,
        """            use: r.sleepy
            with: {seconds: 100}
            timeout: 10
            retry: {on: [TIMEOUT], max_attempts: 2, interval: 1}""",
    )
    async with Engine(registry, clock=clock, environ={}) as engine:
        run = await engine.start(flow)
    assert [e["error"]["code"] for e in _retrying(run)] == ["TIMEOUT", "TIMEOUT"]
    assert [round(b - a) for a, b in itertools.pairwise(CALLS)] == [11, 12, 10]
    assert run.path == ["call", "failed"]


async def test_a_call_within_its_timeout_succeeds(tmp_path: Path, clock: VirtualClock) -> None:
    registry = _registry()
    flow = _flow(
        tmp_path,
        registry,
        """            use: r.sleepy
            with: {seconds: 5}
            timeout: 30s""",
    )
    async with Engine(registry, clock=clock, environ={}) as engine:
        run = await engine.start(flow)
    assert run.path == ["call", "done"]


async def test_a_parallel_blocks_timeout_cancels_its_branches(
    tmp_path: Path, clock: VirtualClock
) -> None:
    registry = _registry()
    text = """
        flow: block-timeout
        start: both
        nodes:
          both:
            timeout: 20s
            parallel:
              quick: {use: r.sleepy, with: {seconds: 1}}
              slow: {use: r.sleepy, with: {seconds: 100}}
            on: {success: done, error: failed}
          done: {use: r.readThing}
          failed: {use: r.readThing}
        """
    flow = load(tmp_path, text, registry)
    async with Engine(registry, clock=clock, environ={}) as engine:
        run = await engine.start(flow)
    assert run.nodes["both"]["outcome"] == "error"
    assert run.nodes["both"]["error"]["code"] == "TIMEOUT"
    assert run.nodes["quick"]["outcome"] == "success"
    assert run.nodes["slow"]["outcome"] == "cancelled"
    assert run.path[-1] == "failed"


def test_retry_and_timeout_are_read_into_the_spec(tmp_path: Path) -> None:
    registry = _registry()
    flow = _flow(
        tmp_path,
        registry,
        """            use: r.readThing
            timeout: 1m30s
            retry:
              on: [A, B]
              max_attempts: 5
              interval: 2s
              backoff_rate: 1.5
              max_delay: 1m
              jitter: full""",
    )
    node = flow.node("call")
    assert node.timeout == 90.0
    assert node.retry is not None
    assert (node.retry.on, node.retry.max_attempts, node.retry.interval) == (("A", "B"), 5, 2.0)
    assert (node.retry.backoff_rate, node.retry.max_delay, node.retry.jitter) == (1.5, 60.0, "full")
    assert flow.node("done").retry is None and flow.node("done").timeout is None

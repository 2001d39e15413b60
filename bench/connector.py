"""Benchmark: a PingOne Verify capability through the engine vs a plain httpx call.

Over the in-process sandbox, in the same run: the median time of a one-node flow that runs
`pingone_verify.readVerifyTransaction` (settings checked, inputs rendered and validated, the
client's cached token and retry loop, output validated, trace event, run saved) against the
median of a plain `httpx.AsyncClient.get` of the same route with a bearer token. The two are
interleaved so that both see the same machine load.

Measured twice: a one-node flow (run creation and saving included in the one call) and a
10-node flow of the same call (per node: what a capability call costs inside a run).

Run: `python bench/connector.py [--calls 500]`. Target: ratio ≤ 1.3.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import time
from typing import Any

import httpx
from _plain import plain_client, ratios
from flowengine_connectors.pingone_sandbox import Sandbox, use_sandbox

from flowengine import Engine, load_flow, load_registry

ENV = "bench-env"
CHAIN = 10
WARMUP = 20
SETTINGS = {
    "environment_id": ENV,
    "client_id": "sandbox-client",
    "client_secret": "sandbox-secret",
    "region": "sandbox",
}


def _flow_text(connector: str, capability: str, inputs: dict[str, Any], nodes: int = 1) -> str:
    """A flow of `nodes` nodes in a row, each calling the capability with the same inputs."""
    chain: dict[str, Any] = {}
    for i in range(nodes):
        chain[f"n{i}"] = {"use": f"c.{capability}", "with": inputs}
        if i + 1 < nodes:
            chain[f"n{i}"]["next"] = f"n{i + 1}"
    return json.dumps(
        {
            "flow": f"bench-{capability.lower()}",
            "connections": {"c": {"connector": connector, "settings": SETTINGS}},
            "start": "n0",
            "nodes": chain,
        }
    )


async def _run(
    engine: Engine, registry: Any, connector: str, capability: str, **inputs: Any
) -> Any:
    flow = load_flow(
        f"<{capability}>.yaml", registry, text=_flow_text(connector, capability, inputs)
    )
    run = await engine.start(flow)
    if run.status != "completed":
        raise SystemExit(f"{capability} failed: {run.error}")
    return run.result


async def main(calls: int) -> None:
    with use_sandbox(Sandbox()) as sandbox:  # the target of the flows' region `sandbox`
        await _bench(sandbox, calls)


async def _bench(sandbox: Sandbox, calls: int) -> None:
    registry = load_registry()
    async with Engine(registry, environ={}) as engine:
        user = await _run(engine, registry, "pingone", "createUser", username="bench-user")
        user_id = user["user"]["id"]
        tx = await _run(
            engine,
            registry,
            "pingone_verify",
            "createVerifyTransaction",
            userId=user_id,
            deviceOsType="Mobile Web",
        )
        tx_id = tx["transaction"]["id"]
        inputs = {"userId": user_id, "transactionId": tx_id}
        path = f"/v1/environments/{ENV}/users/{user_id}/verifyTransactions/{tx_id}"
        plain = await plain_client(sandbox, ENV)
        try:
            for nodes in (1, CHAIN):
                flow = load_flow(
                    "<bench>.yaml",
                    registry,
                    text=_flow_text("pingone_verify", "readVerifyTransaction", inputs, nodes),
                )
                runs = max(50, calls // nodes)
                engine_times, plain_times = await _measure(engine, flow, plain, path, nodes, runs)
                _report(nodes, runs, engine_times, plain_times)
        finally:
            await plain.aclose()


async def _measure(
    engine: Engine, flow: Any, plain: httpx.AsyncClient, path: str, nodes: int, runs: int
) -> tuple[list[float], list[float]]:
    """Seconds per call: engine runs of `nodes` calls vs as many plain GETs, interleaved."""
    engine_times: list[float] = []
    plain_times: list[float] = []
    # As timeit does: no garbage collection inside the timed loop (the memory run store keeps
    # every run, so collections would grow slower as the loop goes on, hitting both sides).
    gc.collect()
    gc.disable()
    try:
        await _loop(engine, flow, plain, path, nodes, runs, engine_times, plain_times)
    finally:
        gc.enable()
    return engine_times, plain_times


async def _loop(
    engine: Engine,
    flow: Any,
    plain: httpx.AsyncClient,
    path: str,
    nodes: int,
    runs: int,
    engine_times: list[float],
    plain_times: list[float],
) -> None:
    for i in range(runs + WARMUP):
        t0 = time.perf_counter()
        run = await engine.start(flow)
        t1 = time.perf_counter()
        for _ in range(nodes):
            response = await plain.get(path)
            response.json()
        t2 = time.perf_counter()
        assert run.status == "completed" and response.status_code == 200, run.error
        if i >= WARMUP:
            engine_times.append((t1 - t0) / nodes)
            plain_times.append((t2 - t1) / nodes)


def _report(nodes: int, runs: int, engine_times: list[float], plain_times: list[float]) -> None:
    what = "a one-node flow run" if nodes == 1 else f"per node of a {nodes}-node flow run"
    engine_s, plain_s = statistics.median(engine_times), statistics.median(plain_times)
    ratio, pairs = ratios(engine_times, plain_times)
    print(f"readVerifyTransaction over the in-process sandbox, {runs} runs, {what}:")
    print(f"  engine      median {engine_s * 1000:.3f} ms per call")
    print(f"  plain httpx median {plain_s * 1000:.3f} ms per call")
    print(f"  ratio {ratio:.2f}x of medians, {pairs:.2f}x median of pairs (target <= 1.3x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    asyncio.run(main(parser.parse_args().calls))

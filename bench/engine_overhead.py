"""Engine overhead: what running a node costs beyond calling its capability function.

Run: python bench/engine_overhead.py [--repeat N]

Measures, in this process:
* a flow of 1,000 no-op nodes, against calling the same no-op function 1,000 times;
* a loop of 1,000 iterations against one of 100 (cost per iteration should not grow);
* a parallel block of 50 no-op branches;
* loading and checking a 1,000-node flow file.
Targets (issue 2): <= 10 µs/node overhead; loop 1,000 vs 100 within 1.2x; load+check < 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from flowengine import (
    CallContext,
    Connector,
    Engine,
    MemoryStore,
    VirtualClock,
    check_flow,
    load_flow,
    load_registry,
)

NOOP_IN = {
    "type": "object",
    "properties": {"i": {"type": "integer"}, "label": {"type": "string"}},
    "additionalProperties": False,
}
NOOP_OUT = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


def noop(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """The no-op capability: returns a constant output."""
    return {"ok": True}


def bench_registry() -> Any:
    """The built-in registry plus a `bench.noop` capability with inline schemas."""
    connector = Connector(name="bench", title="Benchmark")
    connector.capability("noop", input_schema=NOOP_IN, output_schema=NOOP_OUT)(noop)
    registry = load_registry()
    registry.add_connector(connector, "bench")
    return registry


def chain_flow(n: int) -> str:
    """A flow of n no-op nodes, each routed to the next."""
    lines = ["flow: chain", "settings: {max_node_visits: 2}", "start: n0", "nodes:"]
    for k in range(n):
        lines.append(f"  n{k}:")
        lines.append("    use: bench.noop")
        lines.append(f"    with: {{i: {k}, label: node {k}}}")
        if k + 1 < n:
            lines.append(f"    on: {{success: n{k + 1}}}")
    return "\n".join(lines) + "\n"


def loop_flow(iterations: int) -> str:
    """increment -> condition -> back, `iterations` times (two nodes per iteration)."""
    return f"""\
flow: loop
variables: {{count: 0}}
settings: {{max_node_visits: {iterations + 1}}}
start: bump
nodes:
  bump:
    use: variables.increment
    with: {{name: count}}
    on: {{success: check}}
  check:
    use: functions.condition
    with: {{expression: "{{{{ vars.count < {iterations} }}}}"}}
    on: {{"true": bump, "false": done}}
  done:
    use: bench.noop
    with: {{i: 0}}
"""


def parallel_flow(branches: int) -> str:
    """One parallel block of no-op branches."""
    lines = ["flow: fan", "start: block", "nodes:", "  block:", "    parallel:"]
    for k in range(branches):
        lines.append(f"      b{k}: {{use: bench.noop, with: {{i: {k}}}}}")
    lines.append("    next: end")
    lines.append("  end: {use: bench.noop, with: {i: 0}}")
    return "\n".join(lines) + "\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def best_of(repeat: int, measure: Callable[[], float]) -> float:
    """The best (least disturbed) of `repeat` measurements, in seconds."""
    return min(measure() for _ in range(repeat))


def time_run(engine: Engine, flow: Any) -> Callable[[], Awaitable[float]]:
    async def once() -> float:
        # Every measured run starts from the same state: an empty store (a memory store
        # keeps every run, and a heap full of earlier runs makes the GC slower) and no
        # garbage left by the previous run.
        engine.store = MemoryStore()
        gc.collect()
        t0 = time.perf_counter()
        run = await engine.start(flow)
        elapsed = time.perf_counter() - t0
        if run.status != "completed":
            raise SystemExit(f"benchmark flow {flow.id} ended {run.status}: {run.error}")
        return elapsed

    return once


async def best_run(engine: Engine, flow: Any, repeat: int) -> float:
    once = time_run(engine, flow)
    await once()  # warm-up: plans, schemas and templates compiled on first use
    return min([await once() for _ in range(repeat)])


def direct_calls(n: int, repeat: int) -> float:
    """Calling the same no-op function n times in a plain loop."""
    ctx = CallContext("r", "n", 1, {}, None, VirtualClock())
    inputs = [{"i": k, "label": f"node {k}"} for k in range(n)]

    def once() -> float:
        t0 = time.perf_counter()
        for value in inputs:
            noop(value, ctx)
        return time.perf_counter() - t0

    return best_of(repeat, once)


def load_and_check(path: Path, registry: Any, repeat: int) -> float:
    def once() -> float:
        t0 = time.perf_counter()
        spec, diagnostics = check_flow(path, registry)
        elapsed = time.perf_counter() - t0
        if spec is None or any(d.severity == "error" for d in diagnostics):
            raise SystemExit(f"{path} did not check: {diagnostics[:3]}")
        return elapsed

    return best_of(repeat, once)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


async def main(repeat: int, profile: bool) -> int:
    registry = bench_registry()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        chain = load_flow(write(folder, "chain.yaml", chain_flow(1000)), registry)
        loop100 = load_flow(write(folder, "loop100.yaml", loop_flow(100)), registry)
        loop1000 = load_flow(write(folder, "loop1000.yaml", loop_flow(1000)), registry)
        fan = load_flow(write(folder, "fan.yaml", parallel_flow(50)), registry)
        load_s = load_and_check(folder / "chain.yaml", registry, repeat)

    async with Engine(registry, store=MemoryStore(), clock=VirtualClock()) as engine:
        chain_s = await best_run(engine, chain, repeat)
        # A 100-iteration run is short, so one busy moment of the machine weighs more:
        # give it more tries, in proportion to its length.
        l100 = await best_run(engine, loop100, repeat * 4)
        l1000 = await best_run(engine, loop1000, repeat)
        fan_s = await best_run(engine, fan, repeat)
        if profile:
            await profile_chain(engine, chain)
    direct_s = direct_calls(1000, repeat)

    per_node = chain_s / 1000 * 1e6
    direct = direct_s / 1000 * 1e6
    overhead = per_node - direct
    per_iter_100 = l100 / 100 * 1e6
    per_iter_1000 = l1000 / 1000 * 1e6
    ratio_loop = per_iter_1000 / per_iter_100
    print(f"Python {sys.version.split()[0]}, best of {repeat} runs after a warm-up\n")
    print("1,000 no-op nodes (render, validate in/out, route, trace):")
    print(f"  engine            {per_node:8.2f} µs/node   ({chain_s * 1e3:.1f} ms per run)")
    print(f"  direct call       {direct:8.2f} µs/call   ({direct_s * 1e3:.3f} ms for 1,000)")
    print(
        f"  engine overhead   {overhead:8.2f} µs/node   engine/direct = {per_node / direct:.0f}x"
        f"   target <= 10 µs: {verdict(overhead <= 10)}"
    )
    print("loop (increment + condition per iteration):")
    print(f"  100 iterations    {per_iter_100:8.2f} µs/iteration ({l100 * 1e3:.1f} ms)")
    print(f"  1,000 iterations  {per_iter_1000:8.2f} µs/iteration ({l1000 * 1e3:.1f} ms)")
    print(f"  ratio 1,000/100   {ratio_loop:8.2f}x   target <= 1.2x: {verdict(ratio_loop <= 1.2)}")
    print("parallel block of 50 no-op branches (+ 1 end node):")
    print(f"  {fan_s * 1e3:.2f} ms per run, {fan_s / 51 * 1e6:.2f} µs per node")
    print("load + check a 1,000-node flow file:")
    print(f"  {load_s * 1e3:8.1f} ms   target < 200 ms: {verdict(load_s < 0.2)}")
    return 0


async def profile_chain(engine: Engine, flow: Any) -> None:
    """cProfile's top entries for the 1,000-node run (--profile)."""
    profiler = cProfile.Profile()
    profiler.enable()
    await engine.start(flow)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print cProfile top entries")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.repeat, args.profile)))

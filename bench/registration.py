"""Benchmark: the registration flow end to end vs a plain script making the same HTTP calls.

Both sides talk to the same in-process sandbox in the same process, interleaved run by run:

* engine: `flows/registration.yaml` driven headlessly with `flows/registration/success.yaml`
  (a new user each run): the form, Create User, Set Verify Status, Create Verify Transaction,
  the QR code answered by the sandbox phone (persona documents uploaded through the web
  verification endpoints), Return Verify Result, Check Transaction Status, the three reads in
  parallel, Display User Data and the success response; templates, both schema validations,
  the trace, the run store.
* plain: an `httpx.AsyncClient` script making the same requests in the same order (token,
  user, verify status, transaction, the phone's uploads, the transaction read, the three reads
  concurrently).

The requests of both sides are recorded and compared once, so the comparison stays honest if
the flow or the connector changes. Run: `python bench/registration.py [--runs 30]`.
Target: engine / plain <= 1.25.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
from _plain import plain_client, ratios
from flowengine_connectors.pingone_sandbox import Phone, Sandbox, documents_for, use_sandbox

from flowengine import Answers, Engine, MemoryStore, VirtualClock, drive, load_flow, load_registry

ROOT = Path(__file__).resolve().parents[1]
ENV = "sandbox-env"
WARMUP = 3
READS = (
    "verifiedData?type=GOVERNMENT_ID",
    "documents",
    "metaData",
)
"""Read Government ID, Return All Collected and Read Metadata, as the flow reads them."""


class Recorder:
    """An ASGI wrapper noting each request's method and path (the sandbox app inside)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.calls: list[str] | None = None

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if self.calls is not None and scope["type"] == "http":
            query = unquote(scope.get("query_string", b"").decode())
            self.calls.append(f"{scope['method']} {scope['path']}" + (f"?{query}" if query else ""))
        await self.app(scope, receive, send)


def _answers(base: dict[str, Any], i: int, side: str) -> Answers:
    """The success answers with a username and email of this run only."""
    form = dict(base["get_user_details"])
    form["email"] = f"bench-{side}-{i}@example.com"
    form.pop("username", None)
    return Answers({**base, "get_user_details": form})


async def engine_run(engine: Engine, flow: Any, registry: Any, answers: Answers) -> Any:
    run = await engine.start(flow)
    run = await drive(engine, run, flow, answers=answers, registry=registry)
    if run.status != "completed":
        raise SystemExit(f"the registration run did not complete: {run.error}")
    return run.result


async def plain_run(
    c: httpx.AsyncClient, sandbox: Sandbox, form: dict[str, Any], documents: list[Any]
) -> Any:
    """The same registration as a plain script: no engine, no schemas, no templates."""
    env = f"/v1/environments/{ENV}"
    user = await c.post(
        f"{env}/users",
        json={
            "username": form["email"],
            "email": form["email"],
            "name": {"given": form["given_name"], "family": form["family_name"]},
        },
    )
    user_id = user.json()["id"]
    await c.put(f"{env}/users/{user_id}/verifyStatus", json={"verifyStatus": "ENABLED"})
    requirements = {
        "given_name": {"value": form["given_name"]},
        "family_name": {"value": form["family_name"]},
        "birth_date": {"value": form["birthdate"]},
    }
    created = await c.post(
        f"{env}/users/{user_id}/verifyTransactions", json={"requirements": requirements}
    )
    tx = created.json()
    await Phone(sandbox).submit(tx["webVerificationUrl"], documents)
    tx_path = f"{env}/users/{user_id}/verifyTransactions/{tx['id']}"
    status = (await c.get(tx_path)).json()["transactionStatus"]["status"]
    reads = await asyncio.gather(*(c.get(f"{tx_path}/{r}") for r in READS))
    data = [r.json() for r in reads]
    if status != "SUCCESS":
        raise SystemExit(f"the plain registration ended {status}")
    return data[0]["_embedded"]["verifiedData"][0]["data"]


async def main(runs: int) -> None:
    sandbox = Sandbox()
    recorder = Recorder(sandbox.app)
    sandbox.app = recorder  # type: ignore[assignment]
    # The embedded sandbox of region `sandbox` and of the phone, for both sides.
    with use_sandbox(sandbox):
        await measure(sandbox, recorder, runs)


async def measure(sandbox: Sandbox, recorder: Recorder, runs: int) -> None:
    registry = load_registry()
    flow = load_flow(ROOT / "flows" / "registration.yaml", registry)
    base = dict(Answers.load(ROOT / "flows" / "registration" / "success.yaml").responses)
    persona = (
        base["show_qr_code"][0]["persona"]
        if isinstance(base["show_qr_code"], list)
        else base["show_qr_code"]["persona"]
    )
    documents = documents_for(persona)
    engine_times: list[float] = []
    plain_times: list[float] = []
    client = await plain_client(sandbox, ENV)
    async with Engine(registry, store=MemoryStore(), clock=VirtualClock(), environ={}) as engine:
        try:
            await _check_same_calls(
                recorder, engine, flow, registry, client, sandbox, base, documents
            )
            gc.collect()
            for i in range(runs + WARMUP):
                t0 = time.perf_counter()
                await engine_run(engine, flow, registry, _answers(base, i, "engine"))
                t1 = time.perf_counter()
                form = _answers(base, i, "plain").responses["get_user_details"]
                await plain_run(client, sandbox, form, documents)
                t2 = time.perf_counter()
                if i >= WARMUP:
                    engine_times.append(t1 - t0)
                    plain_times.append(t2 - t1)
        finally:
            await client.aclose()
    _report(runs, engine_times, plain_times)


async def _check_same_calls(
    recorder: Recorder,
    engine: Engine,
    flow: Any,
    registry: Any,
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    base: dict[str, Any],
    documents: list[Any],
) -> None:
    """Both sides make the same requests (after a first run that fetches the engine's tokens)."""
    await engine_run(engine, flow, registry, _answers(base, -2, "engine"))
    recorder.calls = []
    await engine_run(engine, flow, registry, _answers(base, -1, "engine"))
    engine_calls, recorder.calls = recorder.calls, []
    form = _answers(base, -1, "plain").responses["get_user_details"]
    await plain_run(client, sandbox, form, documents)
    plain_calls, recorder.calls = recorder.calls, None
    if sorted(map(_shape, engine_calls)) != sorted(map(_shape, plain_calls)):
        raise SystemExit(f"the two sides differ:\n engine {engine_calls}\n plain  {plain_calls}")
    print(f"the same {len(plain_calls)} requests on both sides, per run:")
    for call in plain_calls:
        print(f"  {_shape(call)}")


def _shape(call: str) -> str:
    """A request without its ids, so runs of different users compare."""
    parts = call.split("/")
    return "/".join(p if not any(ch.isdigit() for ch in p) or p == "v1" else "{id}" for p in parts)


def _report(runs: int, engine_times: list[float], plain_times: list[float]) -> None:
    engine_ms = statistics.median(engine_times) * 1000
    plain_ms = statistics.median(plain_times) * 1000
    medians, paired = ratios(engine_times, plain_times)
    print(f"registration success run, end to end over the in-process sandbox, {runs} runs each:")
    print(f"  engine (flows/registration.yaml)  median {engine_ms:8.2f} ms")
    print(f"  plain httpx script, same calls    median {plain_ms:8.2f} ms")
    print(f"  engine overhead {engine_ms - plain_ms:.2f} ms per run")
    print(f"  ratio of medians {medians:.3f}x, median of paired ratios {paired:.3f}x")
    print("  (target <= 1.25x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    asyncio.run(main(parser.parse_args().runs))

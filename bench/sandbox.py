"""Benchmarks of the PingOne sandbox.

1. In-process: median time to read a verify transaction through httpx + the ASGI transport,
   against a trivial Starlette route called the same way in the same run (the baseline).
2. Served: requests/s of the standalone server (uvicorn in a subprocess on 127.0.0.1) reading a
   transaction with 50 concurrent clients, a bounded number of requests, and the failure count.

Run: `python bench/sandbox.py [--reads 3000] [--requests 5000] [--concurrency 50]`.
Targets: in-process read ≤ 300 µs median; served ≥ 500 req/s with no failures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
from flowengine_connectors.pingone_sandbox import Sandbox, SandboxTransport, free_port
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

ENV = "bench-env"
BASE = "http://bench.local"


async def _setup(client: httpx.AsyncClient) -> str:
    """Token, user, transaction; returns the transaction's path."""
    token = await client.post(
        f"/{ENV}/as/token",
        data={"grant_type": "client_credentials"},
        auth=("sandbox-client", "sandbox-secret"),
    )
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    user = await client.post(f"/v1/environments/{ENV}/users", json={"username": "bench"})
    user_id = user.json()["id"]
    tx = await client.post(f"/v1/environments/{ENV}/users/{user_id}/verifyTransactions", json={})
    return f"/v1/environments/{ENV}/users/{user_id}/verifyTransactions/{tx.json()['id']}"


async def _median_us(client: httpx.AsyncClient, path: str, reads: int) -> float:
    for _ in range(200):  # warm up
        await client.get(path)
    samples = []
    for _ in range(reads):
        start = time.perf_counter()
        response = await client.get(path)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200
    return statistics.median(samples) * 1e6


async def in_process(reads: int) -> dict[str, float]:
    """Median µs of a transaction read vs a trivial route, both through httpx in-process."""
    sandbox = Sandbox()
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as c:
        path = await _setup(c)
        read = await _median_us(c, path, reads)

    async def hello(request: Any) -> JSONResponse:
        return JSONResponse({"hello": "world"})

    trivial = Starlette(routes=[Route("/hello", hello)])
    async with httpx.AsyncClient(transport=SandboxTransport(trivial), base_url=BASE) as c:
        baseline = await _median_us(c, "/hello", reads)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(trivial), base_url=BASE) as c:
        httpx_asgi = await _median_us(c, "/hello", reads)
    return {
        "read_transaction_median_us": round(read, 1),
        "baseline_route_median_us": round(baseline, 1),
        "baseline_route_httpx_asgi_transport_median_us": round(httpx_asgi, 1),
    }


def _start_server(port: int) -> subprocess.Popen[bytes]:
    # The private server module: the benchmark serves the sandbox in a child process.
    code = (
        "from flowengine_connectors.pingone_sandbox.server import serve; "
        f"serve(host='127.0.0.1', port={port})"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/verify-webapp/index.html", timeout=0.5)
            return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the sandbox server did not start")


async def _connection(port: int, request: bytes, tickets: Iterator[int]) -> tuple[int, int]:
    """One keep-alive client: sends requests while tickets last; (done, failures)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = failures = 0
    try:
        for _ in tickets:
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await reader.readexactly(length)
            done += 1
            failures += status != 200 or b'"transactionStatus"' not in body
    except (OSError, asyncio.IncompleteReadError):
        failures += 1
    finally:
        writer.close()
    return done, failures


async def served(requests: int, concurrency: int) -> dict[str, float]:
    """Requests/s and failures of the standalone server under `concurrency` clients.

    The load comes from minimal keep-alive HTTP/1.1 clients on asyncio streams: httpx's
    connection pool, shared by 50 tasks, tops out near 120 requests/s on this machine, so
    with it the figure would measure the client, not the server.
    """
    port = free_port()
    process = _start_server(port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            path = await _setup(client)
            auth = client.headers["Authorization"]
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: {auth}\r\nAccept: application/json\r\n\r\n"
        ).encode()
        tickets = iter(range(requests))
        start = time.perf_counter()
        results = await asyncio.gather(
            *(_connection(port, request, tickets) for _ in range(concurrency))
        )
        elapsed = time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(timeout=10)
    done = sum(r[0] for r in results)
    return {
        "requests": requests,
        "completed": done,
        "concurrency": concurrency,
        "requests_per_second": round(done / elapsed, 1),
        "failures": sum(r[1] for r in results) + (requests - done),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    results = {
        "in_process": asyncio.run(in_process(args.reads)),
        "served": asyncio.run(served(args.requests, args.concurrency)),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

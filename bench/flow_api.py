"""Flow API benchmark: the cost of a continue over HTTP, next to a bare Starlette endpoint.

Run: python bench/flow_api.py [--runs N] [--stores memory,sqlite] [--profile]

A three-screen form flow (written to a temporary file: three `ui.form` screens, then
`ui.success`) is served by `flowengine serve` in a subprocess on 127.0.0.1, once per store
(memory, SQLite), with a config whose client has no practical start rate. Beside it, in the
same run, a second subprocess serves a minimal Starlette app (one JSON POST route that
reads the body and answers a small object) under the same uvicorn settings
(`uvicorn.Config(app, log_level="info", lifespan="on")`, as `flowengine serve` uses).

For each store and each door (the plain JSON API and pi.flow), N runs are started first
(not timed), then their 3 N continues are driven at concurrency 1 and 50: one keep-alive
connection per client, each client taking the next run and continuing its three screens.
The client is a small raw HTTP/1.1 one, so that it costs little of the two shared cores.
Printed: continues per second and the median / p99 latency of a continue. The bare endpoint
is measured the same way, before and after the flows; the faster of the two is the baseline
(the ratios are then on the strict side). The targets, printed with ok / MISSED:

* at concurrency 1, a continue costs at most 3x the bare endpoint (median latency ratio);
* at concurrency 50, throughput holds within 1.5x of concurrency 1's (c1/s / c50/s <= 1.5).

`--profile` instead drives the plain continues in-process (the ASGI app, no sockets) under
cProfile, the server's side only.
Every process the bench starts is stopped at the end (SIGTERM, then SIGKILL after 10 s).
A run takes about 15 s.

Figures (2 shared, noisy cores; Python 3.11; N=300), after SQLiteStore began keeping one
connection per store in WAL mode with `synchronous=NORMAL` (before: a connection per call and
`synchronous=FULL`, 4.7-5.8x bare on SQLite):

    store              door      c1/s  med ms  p99 ms  x bare   c50/s  med ms  c1/c50
    bare               starlette 2824    0.33    0.53    1.00    5126    9.45    0.55
    memory             plain     1646    0.60    0.79    1.81    2269   21.98    0.73  ok ok
    memory             pi.flow   1537    0.63    0.86    1.92    1982   21.60    0.78  ok ok
    sqlite             plain     1120    0.84    1.32    2.55    1277   38.32    0.88  ok ok
    sqlite             pi.flow   1044    0.89    3.50    2.70    1225   39.96    0.85  ok ok

The x-bare ratio moves by about +-0.3 between runs (the bare baseline itself moves between
0.33 and 0.43 ms). Concurrency 50 never costs throughput (c1/c50 below 1): with 50 clients a
request is always queued, so the server's one thread never idles between them. What is left
of a SQLite continue: the commit and the JSON (de)serialization of the whole run (the store
rewrites it on every save), then the engine's pass. Next: let the engine hand the run it
just saved to the caller without a reload, and run store calls off the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import cProfile
import hashlib
import json
import pstats
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowengine_connectors.pingone_sandbox import free_port

ROOT = Path(__file__).resolve().parent.parent
REDIRECT = "http://127.0.0.1:3000/callback"
SCREENS = 3
C1, C50 = 1, 50
TARGET_VS_BARE = 3.0
TARGET_C50 = 1.5

FLOW_YAML = """\
flow: bench_form
title: Three screens of a form
start: name
nodes:
  name:
    use: ui.form
    with:
      title: Your name
      fields:
        - {name: given_name, label: Given name, required: true}
        - {name: family_name, label: Family name}
    on: {success: contact, error: failed}
  contact:
    use: ui.form
    with:
      title: "How to reach you, {{ nodes.name.output.given_name }}"
      fields:
        - {name: email, label: Email, type: email, required: true}
        - {name: age, label: Age, type: number}
    on: {success: plan, error: failed}
  plan:
    use: ui.form
    with:
      title: Your plan
      fields:
        - {name: plan, label: Plan, type: select, options: [free, pro]}
        - {name: password, label: Password, type: password, pattern: ".{8,}"}
    on: {success: done, error: failed}
  done:
    use: ui.success
    with:
      result:
        email: "{{ nodes.contact.output.email }}"
        plan: "{{ nodes.plan.output.plan }}"
  failed:
    use: ui.error
    with: {code: FAILED, message: "Sign-up could not be completed."}
"""
ANSWERS: list[dict[str, Any]] = [
    {"given_name": "Ada", "family_name": "Lovelace"},
    {"email": "ada@example.com", "age": "36"},
    {"plan": "pro", "password": "correct horse"},
]

SERVE_CONFIG = f"""\
environment: local
clients:
  - client_id: flowengine-dev
    redirect_uris: [{REDIRECT}]
    flows: "*"
    starts_per_minute: 1000000
"""
"""The development client, with a start rate the bench does not reach."""

BARE_APP = """\
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def echo(request):
    body = await request.json()
    return JSONResponse({"ok": True, "got": len(body)}, headers={"Cache-Control": "no-store"})


async def health(request):
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/continue", echo, methods=["POST"]),
                        Route("/health", health, methods=["GET"])])
"""

BARE_SERVER = """\
import sys
import uvicorn
sys.path.insert(0, sys.argv[2])
from bare_app import app
uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=int(sys.argv[1]),
                              log_level="info", lifespan="on")).run()
"""


# ---- a small HTTP/1.1 keep-alive client ---------------------------------------------------


class Conn:
    """One keep-alive connection: request() sends and reads one answer (Content-Length)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> Conn:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        kind: str = "application/json",
    ) -> tuple[int, Any]:
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"host: 127.0.0.1:{self.port}"]
        if body or method == "POST":
            lines += [f"content-type: {kind}", f"content-length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        length = 0
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        raw = await self.reader.readexactly(length)
        if status >= 500:
            raise RuntimeError(f"{path}: {status} {raw[:200]!r}")
        return status, json.loads(raw) if raw else None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


def pkce() -> str:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


# ---- the doors: start a run (not timed), then its continues (timed) -----------------------

Step = dict[str, Any]
Call = Callable[[Conn, str, bytes, dict[str, str]], Awaitable[tuple[int, Any]]]


async def plain_start(conn: Conn) -> Step:
    status, run = await conn.request(
        "POST", "/api/runs", json.dumps({"flow": "bench_form"}).encode()
    )
    assert status == 201, run
    return {"id": run["id"], "token": run["pending"]["token"]}


async def plain_continue(conn: Conn, step: Step, screen: int) -> Step:
    body = json.dumps({"token": step["token"], "response": ANSWERS[screen]}).encode()
    status, run = await conn.request("POST", f"/api/runs/{step['id']}/continue", body)
    assert status == 200, run
    if screen == SCREENS - 1:
        assert run["status"] == "completed", run
        return {}
    return {"id": run["id"], "token": run["pending"]["token"]}


async def pi_start(conn: Conn) -> Step:
    query = (
        "client_id=flowengine-dev&response_type=code&response_mode=pi.flow"
        f"&redirect_uri={REDIRECT}&code_challenge={pkce()}&code_challenge_method=S256"
        "&state=s&acr_values=bench_form"
    )
    status, step = await conn.request("GET", f"/local/as/authorize?{query}")
    assert status == 200, step
    return step


async def pi_continue(conn: Conn, step: Step, screen: int) -> Step:
    body = {
        "parameters": {
            "eventType": "submit",
            "data": {"actionKey": "success", "formData": ANSWERS[screen]},
        }
    }
    headers = {"interactionId": step["interactionId"], "interactionToken": step["interactionToken"]}
    path = "/" + step["_links"]["next"]["href"].split("/", 3)[3]
    status, answer = await conn.request("POST", path, json.dumps(body).encode(), headers)
    assert status == 200, answer
    if screen == SCREENS - 1:
        assert answer["status"] == "COMPLETED", answer
    return dict(answer)


async def bare_start(conn: Conn) -> Step:
    return {}


async def bare_continue(conn: Conn, step: Step, screen: int) -> Step:
    body = json.dumps({"token": "0" * 64, "response": ANSWERS[screen]}).encode()
    status, answer = await conn.request("POST", "/continue", body)
    assert status == 200, answer
    return {}


DOORS = {
    "plain": (plain_start, plain_continue),
    "pi.flow": (pi_start, pi_continue),
    "bare": (bare_start, bare_continue),
}


@dataclass
class Figures:
    per_s: float
    median_ms: float
    p99_ms: float


async def drive(port: int, door: str, runs: int, concurrency: int) -> Figures:
    """Start `runs` runs, then drive all their continues `concurrency` at a time."""
    start, cont = DOORS[door]
    conns = [await Conn(port).open() for _ in range(concurrency)]
    try:
        # warm up each connection (and the server's plans, caches) with a whole run
        for conn in conns[: min(4, concurrency)]:
            step = await start(conn)
            for screen in range(SCREENS):
                step = await cont(conn, step, screen)
        steps = [await start(conns[i % concurrency]) for i in range(runs)]
        latencies: list[float] = []
        todo = iter(range(runs))

        async def worker(conn: Conn) -> None:
            for i in todo:  # each worker takes the next run and drives its screens in turn
                step = steps[i]
                for screen in range(SCREENS):
                    began = time.perf_counter()
                    step = await cont(conn, step, screen)
                    latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in conns))
        elapsed = time.perf_counter() - began
    finally:
        for conn in conns:
            await conn.close()
    lat = sorted(latencies)
    p99 = lat[max(0, int(len(lat) * 0.99) - 1)]
    return Figures(len(lat) / elapsed, statistics.median(lat) * 1000, p99 * 1000)


# ---- the servers --------------------------------------------------------------------------


def wait_ready(port: int, path: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(
                    f"GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".encode()
                )
                if sock.recv(12).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"the server on port {port} did not start")
        time.sleep(0.05)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class Servers:
    """The subprocesses this bench started; every one stopped on exit."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def spawn(self, command: list[str], ready_path: str, port: int) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
        )
        self.started.append(process)
        wait_ready(port, ready_path, process)
        return process

    def __enter__(self) -> Servers:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.started:
            stop(process)


def flowengine_command(flow: Path, store: str, port: int) -> list[str]:
    config = flow.with_name("serve.yaml")
    launch = [sys.executable, "-m", "flowengine"]
    return [*launch, "serve", str(flow), "--store", store, "--port", str(port),
            "--config", str(config)]  # fmt: skip


def bare_command(folder: Path, port: int) -> list[str]:
    return [sys.executable, str(folder / "bare_server.py"), str(port), str(folder)]


# ---- the report ---------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def measure_bare(servers: Servers, folder: Path, runs: int) -> dict[int, Figures]:
    port = free_port()
    process = servers.spawn(bare_command(folder, port), "/health", port)
    try:
        return {c: asyncio.run(drive(port, "bare", runs, c)) for c in (C1, C50)}
    finally:
        stop(process)


def best(a: Figures, b: Figures) -> Figures:
    return Figures(max(a.per_s, b.per_s), min(a.median_ms, b.median_ms), min(a.p99_ms, b.p99_ms))


def main(runs: int, stores: list[str]) -> int:
    all_ok = True
    with tempfile.TemporaryDirectory() as tmp, Servers() as servers:
        folder = Path(tmp)
        flow = folder / "bench_form.yaml"
        flow.write_text(FLOW_YAML)
        (folder / "serve.yaml").write_text(SERVE_CONFIG)
        (folder / "bare_app.py").write_text(BARE_APP)
        (folder / "bare_server.py").write_text(BARE_SERVER)
        first = measure_bare(servers, folder, runs)
        results: dict[tuple[str, str], dict[int, Figures]] = {}
        for store in stores:
            url = "memory:" if store == "memory" else f"sqlite:///{folder / store}.db"
            port = free_port()
            command = flowengine_command(flow, url, port)
            process = servers.spawn(command, "/api/flows", port)
            try:
                for door in ("plain", "pi.flow"):
                    results[store, door] = {
                        c: asyncio.run(drive(port, door, runs, c)) for c in (C1, C50)
                    }
            finally:
                stop(process)
        last = measure_bare(servers, folder, runs)
    bare = {c: best(first[c], last[c]) for c in (C1, C50)}

    print(f"{runs} runs x {SCREENS} continues per case; 127.0.0.1, one keep-alive conn per client")
    header = (
        f"{'store':<18} {'door':<8} {'c1/s':>7} {'med ms':>7} {'p99 ms':>7} {'x bare':>7}"
        f" {'c50/s':>7} {'med ms':>7} {'p99 ms':>7} {'c1/c50':>7}  targets"
    )
    print(header)
    for label, figures in [(("bare", "starlette"), bare), *results.items()]:
        one, many = figures[C1], figures[C50]
        ratio = one.median_ms / bare[C1].median_ms
        drop = one.per_s / many.per_s
        marks = ""
        if label[0] != "bare":
            ok1, ok50 = ratio <= TARGET_VS_BARE, drop <= TARGET_C50
            all_ok = all_ok and ok1 and ok50
            marks = f"  <=3x bare {verdict(ok1)}, c50 within 1.5x {verdict(ok50)}"
        print(
            f"{label[0]:<18} {label[1]:<8} {one.per_s:7.0f} {one.median_ms:7.2f} {one.p99_ms:7.2f}"
            f" {ratio:7.2f} {many.per_s:7.0f} {many.median_ms:7.2f} {many.p99_ms:7.2f}"
            f" {drop:7.2f}{marks}"
        )
    print(
        f"bare c1 before/after the flows: {first[C1].median_ms:.3f} / {last[C1].median_ms:.3f} ms"
    )
    print("all targets ok" if all_ok else "some targets MISSED")
    return 0


# ---- profile: the continue path in-process ------------------------------------------------


def profile(runs: int, store: str) -> int:
    """cProfile of the continues only, driven through the ASGI app (no sockets, no uvicorn)."""
    import httpx

    from flowengine._cli.serve import build_server

    with tempfile.TemporaryDirectory() as tmp:
        flow = Path(tmp) / "bench_form.yaml"
        flow.write_text(FLOW_YAML)
        url = "memory:" if store == "memory" else f"sqlite:///{Path(tmp) / 'runs.db'}"
        server, _config = build_server([str(flow)], url, None)

        async def go() -> cProfile.Profile:
            transport = httpx.ASGITransport(app=server.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
                ids: list[tuple[str, str]] = []
                for _ in range(runs):
                    run = (await c.post("/api/runs", json={"flow": "bench_form"})).json()
                    ids.append((run["id"], run["pending"]["token"]))
                prof = cProfile.Profile()
                prof.enable()
                for screen in range(SCREENS):
                    for n, (run_id, token) in enumerate(ids):
                        body = {"token": token, "response": ANSWERS[screen]}
                        answer = (await c.post(f"/api/runs/{run_id}/continue", json=body)).json()
                        ids[n] = (run_id, (answer.get("pending") or {}).get("token", ""))
                prof.disable()
            return prof

        prof = asyncio.run(go())
        server.service.ledger.close()
    stats = pstats.Stats(prof)
    print(f"cProfile: {runs * SCREENS} plain continues in-process, store {store}")
    # the server's side only (the in-process client's own functions left out)
    stats.sort_stats("cumulative").print_stats(r"flowengine/|sqlite3|json/", 40)
    stats.sort_stats("tottime").print_stats(r"flowengine/|sqlite3|json/|starlette", 20)
    stats.print_callers(r"of 'sqlite3.Connection' objects")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="runs per case (3 continues each)")
    parser.add_argument("--stores", default="memory,sqlite", help="memory,sqlite")
    parser.add_argument("--profile", action="store_true", help="cProfile the continue path")
    args = parser.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if args.profile:
        sys.exit(profile(args.runs, stores[-1]))
    sys.exit(main(args.runs, stores))

"""A recognisable client secret, and the bearer tokens it buys, never leave the client.

Flows run against the in-process sandbox (success, PingOne errors, injected faults, a
refused token); the secret, its Basic header and every issued token must appear in no
trace event, log line, stored run (SQLite file bytes) or error text.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flowengine_connectors.pingone_sandbox import Sandbox, use_sandbox
from store_files import stored_text

from flowengine import Engine, JsonlTraceSink, SQLiteStore, VirtualClock, load_flow, load_registry

SECRET = "LEAK-CANARY-9b1d7e3a-secret"
ENV, CLIENT = "env-leak", "leak-client"

FLOW = """
flow: leak-check
connections:
  users:
    connector: pingone
    settings:
      environment_id: env-leak
      client_id: leak-client
      client_secret: "${P1_SECRET}"
      region: sandbox
  verify:
    connector: pingone_verify
    settings:
      environment_id: env-leak
      client_id: leak-client
      client_secret: "SECRET_HERE"
      region: sandbox
start: create_user
nodes:
  create_user:
    use: users.createUser
    with: {username: "{{ run.id }}", email: leak@example.com, givenName: Leak}
    next: create_tx
  create_tx:
    use: verify.createVerifyTransaction
    with:
      userId: "{{ nodes.create_user.output.user.id }}"
      deviceOsType: Mobile Web
      biographic: [{name: given_name, value: Leak}]
    next: read_tx
  read_tx:
    use: verify.readVerifyTransaction
    with:
      userId: "{{ nodes.create_user.output.user.id }}"
      transactionId: "{{ nodes.create_tx.output.transaction.id }}"
    next: missing_document
  missing_document:
    use: verify.readDocument
    with:
      userId: "{{ nodes.create_user.output.user.id }}"
      transactionId: "{{ nodes.create_tx.output.transaction.id }}"
      documentId: no-such-document
""".replace("SECRET_HERE", SECRET)


class TokenSpy(httpx.AsyncBaseTransport):
    """Passes requests to the sandbox and remembers every access token it hands out."""

    def __init__(self, inner: httpx.AsyncBaseTransport, tokens: list[str]) -> None:
        self.inner, self.tokens = inner, tokens

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/as/token") and response.status_code == 200:
            body = await response.aread()
            self.tokens.append(json.loads(body)["access_token"])
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class SpiedSandbox(Sandbox):
    """A sandbox whose in-process transport records the tokens it issues."""

    def __init__(self, issued: list[str], **options: Any) -> None:
        super().__init__(**options)
        self.issued = issued

    def transport(self) -> httpx.AsyncBaseTransport:  # type: ignore[override]
        return TokenSpy(super().transport(), self.issued)


@pytest.fixture
def tokens(clock: VirtualClock) -> Iterator[list[str]]:
    issued: list[str] = []
    sandbox = SpiedSandbox(
        issued,
        clock=clock,
        config={
            "environments": {ENV: {"clients": {CLIENT: SECRET}}},
            "faults": [
                {"action": "expire_tokens", "env": ENV, "method": "GET", "times": 1},
                {
                    "action": "status",
                    "status": 500,
                    "env": ENV,
                    "method": "POST",
                    "path": "*/users",
                },
            ],
        },
    )
    with use_sandbox(sandbox):
        yield issued


async def test_secret_and_tokens_appear_nowhere(
    tokens: list[str], clock: VirtualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    registry = load_registry()
    flow = load_flow(tmp_path / "leak.yaml", registry, text=FLOW)
    store = SQLiteStore(tmp_path / "runs.db")
    trace_file = tmp_path / "trace.jsonl"
    events: list[dict[str, Any]] = []
    texts: list[str] = []
    async with Engine(
        registry,
        store=store,
        clock=clock,
        environ={"P1_SECRET": SECRET},
        trace_sinks=[JsonlTraceSink(trace_file), events.append],
    ) as engine:
        first = await engine.start(flow)  # the first POST meets the injected 500
        second = await engine.start(flow)  # a GET meets expired tokens, then a missing document
        texts += [json.dumps(r.to_dict(), default=str) for r in (first, second)]
        texts += [repr(r) for r in (first, second)]

    assert first.status == "failed" and first.error is not None
    assert first.error["status_code"] == 500 and first.error["node"] == "create_user"
    assert second.status == "failed" and second.error is not None
    assert second.error["node"] == "missing_document" and second.error["status_code"] == 404
    assert second.path[:3] == ["create_user", "create_tx", "read_tx"]
    assert len(tokens) >= 2  # a token was refreshed after the sandbox expired them

    basic = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
    everywhere = "\n".join(
        [
            *texts,
            trace_file.read_text(encoding="utf-8"),
            json.dumps(events, default=str),
            caplog.text,
            stored_text(tmp_path / "runs.db"),
            json.dumps([r.to_dict() for r in await store.list()], default=str),
        ]
    )
    assert events and "create_tx" in everywhere  # the places searched are not empty
    for needle in [SECRET, basic, *tokens]:
        assert needle not in everywhere

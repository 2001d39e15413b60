"""A scripted PingOne on httpx.MockTransport, and helpers for the connector tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from flowengine import CallContext, VirtualClock

SECRET = "S3cr3t-Recognisable-Value-7f9c"
ENV = "env-0001"
CLIENT_ID = "client-0001"

Handler = Callable[[httpx.Request], httpx.Response]


@dataclass
class ScriptedPingOne:
    """A MockTransport handler: a token endpoint plus queued or default API answers."""

    token_lifetime: int = 3600
    requests: list[httpx.Request] = field(default_factory=list)
    tokens_issued: int = 0
    queue: list[httpx.Response | Exception] = field(default_factory=list)
    default: httpx.Response | None = None
    refuse_tokens: set[str] = field(default_factory=set)
    """Bearer tokens answered with 401 (revoked)."""
    auths: list[str] = field(default_factory=list)
    """The Authorization header of each API request as it was sent."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/as/token"):
            return self._token(request)
        self.requests.append(request)
        self.auths.append(request.headers.get("authorization", ""))
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer in self.refuse_tokens:
            return json_response(
                401, {"id": "e1", "code": "ACCESS_FAILED", "message": "The token is not valid"}
            )
        if self.queue:
            item = self.queue.pop(0)
            if isinstance(item, Exception):
                raise item
            return item
        return self.default or json_response(200, {"id": "x"})

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.tokens_issued += 1
        return json_response(
            200,
            {
                "access_token": f"token-{self.tokens_issued}",
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
            },
        )

    @property
    def api_requests(self) -> list[httpx.Request]:
        return self.requests


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
    )


def settings(region: str = "NA", **more: Any) -> dict[str, Any]:
    return {
        "environment_id": ENV,
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "region": region,
        **more,
    }


def context(client: Any, clock: VirtualClock, node: str = "node") -> CallContext:
    return CallContext(
        run_id="run-1", node_id=node, visit=1, settings={}, connection=client, clock=clock
    )

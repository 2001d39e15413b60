"""The sandbox: one Starlette app emulating PingOne auth, users and Verify for any environments."""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from flowengine import Clock, SystemClock

from . import admin, documents, phone, policies, transactions, users, webverify
from .auth import Auth, token_endpoint
from .box import Handler
from .config import SandboxConfig, load_config
from .errors import ApiError, error_response, invalid_request, not_found, request_limited
from .faults import Faults
from .http import ConnectionDropped, dropped_response
from .limits import BodyLimit
from .state import Store

__all__ = ["Sandbox", "SandboxTransport", "default_sandbox", "use_sandbox"]


class SandboxTransport(httpx.AsyncBaseTransport):
    """A lean httpx transport that calls an ASGI app in-process.

    httpx's own ASGITransport probes for trio on every request; this one builds the scope and
    collects the response directly. A dropped connection surfaces as httpx's protocol error.
    """

    def __init__(self, app: ASGIApp, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.app = app
        self.client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Run the request through the ASGI app and collect its response."""
        body = await request.aread()
        url = request.url
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": url.path,  # already percent-decoded by httpx: decoding again mangles `%`
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "query_string": url.query,
            "root_path": "",
            "headers": [(key.lower(), value) for key, value in request.headers.raw],
            "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
            "client": self.client,
        }
        received = False
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal received
            if received:
                return {"type": "http.disconnect"}
            received = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, receive, send)
        except ConnectionDropped:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a complete response.", request=request
            ) from None
        return httpx.Response(
            start["status"],
            headers=start.get("headers", []),
            content=b"".join(chunks),
            request=request,
        )


class Sandbox:
    """A PingOne emulator: `.app` (Starlette), `.transport()`, `.clock`, `.store`, `.faults`."""

    base_url = "http://sandbox.pingone.local"

    def __init__(
        self,
        clock: Clock | None = None,
        config: SandboxConfig | dict[str, Any] | str | Path | None = None,
        data_path: str | Path | None = None,
    ) -> None:
        self.clock: Clock = clock or SystemClock()
        self.config = load_config(config)
        self.data_path = data_path
        self.store = Store(data_path)
        self.faults = Faults(self.config.faults)
        self.auth = Auth(self)
        self._windows: dict[str, tuple[int, int]] = {}  # env -> (second, requests in it)
        handlers = {404: _unknown_route, 405: _unknown_route}
        # BodyLimit sits outside the routes: a body over the limit is refused before the token
        # is checked or the body read (docs/assumptions.md, "Limits").
        self.app = Starlette(
            routes=self._routes(),
            exception_handlers=handlers,
            middleware=[Middleware(BodyLimit)],
        )

    def __repr__(self) -> str:
        return f"<Sandbox environments={len(list(self.store.values('env')))}>"

    def transport(self) -> SandboxTransport:
        """An httpx transport that calls this sandbox in-process."""
        return SandboxTransport(self.app)

    def now(self) -> float:
        """The sandbox's current time (epoch seconds) from its clock."""
        return self.clock.now()

    def notifications(self, env_id: str | None = None) -> list[dict[str, Any]]:
        """The emails / SMS the sandbox would have sent for `sendNotification`, oldest first."""
        from .outbox import notifications

        return notifications(self, env_id)

    def close(self) -> None:
        """Release the SQLite file, if any."""
        self.store.close()

    def environment(self, env_id: str) -> dict[str, Any]:
        """The environment, provisioned (with its default Verify policy) on first use."""
        env = self.store.get("env", env_id)
        if env is not None:
            return env
        if self.config.clients(env_id) is None:
            raise not_found(
                f"Environment {env_id!r} is not served by this sandbox (see its config)"
            )
        env = self.store.put("env", env_id, {"id": env_id, "createdAt": self.now()})
        policies.seed_default(self, env_id)
        return env

    def count_request(self, env_id: str) -> None:
        """Enforce `rate_limit` (requests per second per environment): 429 past it."""
        limit = self.config.rate_limit
        if limit is None:
            return
        now = self.clock.now()
        second = int(now)
        start, count = self._windows.get(env_id, (second, 0))
        count = count + 1 if start == second else 1
        self._windows[env_id] = (second, count)
        if count > limit:
            raise request_limited(max(1, int(second + 1 - now + 0.999)))

    async def apply_fault(self, env_id: str, request: Request) -> Response | None:
        """Run the first matching fault rule: raise its error, wait, expire tokens or drop."""
        rule = self.faults.take(env_id, request.method, request.url.path)
        if rule is None:
            return None
        if rule.action == "latency":
            await self.clock.sleep(rule.seconds)
        elif rule.action == "drop":
            return dropped_response()
        elif rule.action == "expire_tokens":
            self.auth.expire_all(env_id)
        elif rule.status == 429:
            raise request_limited(rule.retry_after)
        else:
            raise _status_fault(rule.status, rule.retry_after)
        return None

    def _routes(self) -> list[BaseRoute]:
        def route(path: str, handler: Any, methods: list[str], auth: bool = True) -> Route:
            # Admin calls are never faulted, so a test can always clear its rules.
            endpoint = api_endpoint(self, handler, auth=auth, faults=not path.startswith("/admin"))
            return Route(path, endpoint, methods=methods)

        env = "/v1/environments/{envId}"
        found: list[BaseRoute] = [
            route("/{envId}/as/token", token_endpoint, ["POST"], auth=False),
        ]
        for module in (users, policies, transactions, documents):
            for path, handler, methods in module.ROUTES:
                found.append(route(env + path, handler, methods))
        for path, handler, methods in (*webverify.ROUTES, *phone.ROUTES):
            found.append(route(path, handler, methods, auth=False))
        if self.config.admin:
            for path, handler, methods in admin.ROUTES:
                found.append(route(path, handler, methods, auth=False))
        return found


def api_endpoint(
    sandbox: Sandbox, handler: Handler, *, auth: bool = True, faults: bool = True
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler with fault injection, bearer-token checks and the error envelope."""

    async def endpoint(request: Request) -> Response:
        env_id = request.path_params.get("envId", "")
        try:
            if faults and sandbox.faults.rules:
                dropped = await sandbox.apply_fault(env_id, request)
                if dropped is not None:
                    return dropped
            if faults:
                sandbox.count_request(env_id)
            if auth:
                sandbox.auth.check(env_id, request)
            return await handler(sandbox, request)
        except ApiError as error:
            return error_response(error)

    return endpoint


async def _unknown_route(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer in PingOne's envelope too."""
    status = getattr(exc, "status_code", 404)
    if status == 405:
        error = invalid_request(f"{request.method} is not allowed on this path", 405)
    else:
        error = not_found(f"No such resource: {request.method} {request.url.path}")
    return error_response(error)


def _status_fault(status: int, retry_after: int) -> ApiError:
    # Never 429: apply_fault answers that with request_limited.
    codes = {503: "SERVICE_UNAVAILABLE"}
    code = codes.get(status, "UNEXPECTED_ERROR" if status >= 500 else "REQUEST_FAILED")
    headers = {"Retry-After": str(retry_after)} if status == 503 else {}
    return ApiError(status, code, f"The sandbox injected a {status} fault.", headers=headers)


DATA_ENV = "FLOWENGINE_SANDBOX_DATA"
"""A SQLite file for the embedded sandbox's state; unset, its state lives in the process."""

_default: Sandbox | None = None
_default_lock = threading.Lock()
_chosen: list[Sandbox] = []
"""Sandboxes put in place by `use_sandbox`, innermost last."""


def default_sandbox() -> Sandbox:
    """The process's embedded sandbox: the one `use_sandbox` chose, else one made on first use.

    With FLOWENGINE_SANDBOX_DATA set, that one keeps its state in the SQLite file named, so a
    waiting run can be resumed by another process (`flowengine runs resume`).
    """
    global _default
    with _default_lock:
        if _chosen:
            return _chosen[-1]
        if _default is None:
            _default = Sandbox(data_path=os.environ.get(DATA_ENV) or None)
        return _default


@contextmanager
def use_sandbox(sandbox: Sandbox) -> Iterator[Sandbox]:
    """Within the block, `sandbox` is the embedded one: the target of region `sandbox`.

    Connections opened inside the block (PingOneClient with region `sandbox` and no api_url)
    and the answer actions (`phone`, `documents`, `sandbox.advance`) all reach it. A test
    gives each case a fresh sandbox on a virtual clock this way; to watch or alter the
    traffic, pass a Sandbox subclass whose `transport()` wraps the in-process one.
    """
    with _default_lock:
        _chosen.append(sandbox)
    try:
        yield sandbox
    finally:
        with _default_lock:
            _chosen.remove(sandbox)

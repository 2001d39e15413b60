"""The flow API server: both doors, plugins' web apps beside them, CORS, on one port."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from flowengine._plugins.registry import call_hook, get_plugin_manager
from flowengine._reading.spec import FlowSpec
from flowengine._running.engine import Engine
from flowengine._serving.config import ServeConfig
from flowengine._serving.davinci import davinci_routes
from flowengine._serving.http import CORS, reply
from flowengine._serving.ledger import ledger_for, load_key
from flowengine._serving.plain import plain_routes
from flowengine._serving.service import FlowService
from flowengine._storing.stores import RunStore

__all__ = ["FlowServer", "WebApp", "plugin_web_apps"]


class WebApp:
    """A plugin's ASGI app served beside the flow API under `prefixes`.

    `origin` is the in-process origin its links use (a QR code's URL): the server shows its
    own origin in its place, so a browser or a phone reaches the app through this server.
    """

    def __init__(self, prefixes: Iterable[str], app: Any, origin: str | None = None) -> None:
        self.prefixes = tuple(prefixes)
        self.app = app
        self.origin = origin.rstrip("/") if origin else None


def plugin_web_apps(flows: Mapping[str, FlowSpec], pm: Any = None) -> list[WebApp]:
    """The web apps plugins serve beside these flows (`register_routes`)."""
    apps: list[WebApp] = []

    def register(prefixes: Iterable[str] | str, app: Any, origin: str | None = None) -> None:
        apps.append(WebApp([prefixes] if isinstance(prefixes, str) else prefixes, app, origin))

    pm = pm or get_plugin_manager()
    if hasattr(pm.hook, "register_routes"):
        call_hook(pm, "register_routes", flows=dict(flows), register=register)
    return apps


def _rewriter(apps: list[WebApp]) -> Any:
    pairs = [a.origin for a in apps if a.origin]

    def rewrite(value: Any, public: str) -> Any:
        if not pairs:
            return value
        if isinstance(value, str):
            for origin in pairs:
                value = value.replace(origin, public).replace(
                    quote(origin, safe=""), quote(public, safe="")
                )
            return value
        if isinstance(value, dict):
            return {k: rewrite(v, public) for k, v in value.items()}
        if isinstance(value, list):
            return [rewrite(v, public) for v in value]
        return value

    return rewrite


class _Dispatch:
    """Requests under a plugin app's prefix go to it, the rest to the flow API."""

    def __init__(self, main: ASGIApp, apps: list[WebApp]) -> None:
        self.main = main
        self.apps = [(p, a) for a in apps for p in a.prefixes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            for prefix, web in self.apps:
                if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                    await web.app(scope, receive, send)
                    return
        await self.main(scope, receive, send)


async def _not_found(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    message = "no such endpoint" if status == 404 else "method not allowed here"
    return reply(
        {
            "error": {
                "code": "NOT_FOUND" if status == 404 else "METHOD_NOT_ALLOWED",
                "message": f"{request.method} {request.url.path}: {message}",
            },
            "code": status,
            "message": message,
        },
        status,
    )


class FlowServer:
    """The served flows behind both doors: `.app` is the ASGI app, `.service` the runs."""

    def __init__(
        self,
        flows: Mapping[str, FlowSpec],
        config: ServeConfig,
        store: RunStore,
        *,
        engine: Engine | None = None,
        web_apps: list[WebApp] | None = None,
    ) -> None:
        self.engine = engine or Engine(store=store)
        self.config = config
        self.web_apps = list(web_apps or [])
        self.service = FlowService(
            self.engine, flows, config, ledger_for(store), load_key(store, config.key_file)
        )
        rewrite = _rewriter(self.web_apps)
        routes = [*davinci_routes(self.service, rewrite), *plain_routes(self.service, rewrite)]

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            yield
            await self.engine.aclose()
            self.service.ledger.close()

        main = Starlette(
            routes=routes,
            exception_handlers={404: _not_found, 405: _not_found},
            lifespan=lifespan,
        )
        self.app: ASGIApp = CORS(_Dispatch(main, self.web_apps), config)

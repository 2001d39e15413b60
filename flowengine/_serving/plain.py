"""The plain JSON API, for apps that do not use Ping's SDK: the same runs as pi.flow.

    GET  /api/flows                      the served flows
    POST /api/runs                       {flow, inputs?, client_id?} -> 201 the run
    GET  /api/runs/{id}                  status, pending interaction (with its token), result
    POST /api/runs/{id}/continue         {token, response} -> the run
    POST /api/runs/{id}/cancel           {token} -> the run, failed with code CANCELLED
    GET  /api/openapi.json               this API as OpenAPI 3.1

Errors are `{"error": {"code", "message", "details"}}` with a 4xx status.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowengine._serving.flows import describe
from flowengine._serving.http import origin_of, read_json, reply
from flowengine._serving.openapi import openapi_document
from flowengine._serving.service import FlowService, Refused
from flowengine._storing.run import Run

__all__ = ["plain_routes"]

log = logging.getLogger("flowengine.serve")


def _known(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise Refused(
            400,
            "INVALID_REQUEST",
            f"unknown field(s) {unknown}; this request takes {sorted(allowed)}",
        )


def _shown(interaction: dict[str, Any]) -> dict[str, Any]:
    """The interaction's data as the plain API shows it: a form's password values left out."""
    data = dict(interaction.get("data") or {})
    if interaction.get("kind") == "form" and data.get("values"):
        hidden = {f.get("name") for f in data.get("fields", []) if f.get("type") == "password"}
        data["values"] = {k: v for k, v in data["values"].items() if k not in hidden}
    return data


def _check_fields(run: Run, response: dict[str, Any]) -> None:
    """A form's response names only its fields (and `action`): a typo is a 400, not ignored."""
    interaction = (run.waiting or {}).get("interaction") or {}
    if interaction.get("kind") != "form":
        return
    fields = {f.get("name") for f in (interaction.get("data") or {}).get("fields", [])}
    unknown = sorted(k for k in response if k not in fields and k != "action")
    if unknown:
        raise Refused(
            400,
            "UNKNOWN_FIELDS",
            f"the form has no field(s) {unknown}; its fields: {sorted(map(str, fields))}",
            [{"target": k, "message": "This form has no such field"} for k in unknown],
        )


class PlainDoor:
    def __init__(self, service: FlowService, rewrite: Callable[[Any, str], Any]) -> None:
        self.service = service
        self.rewrite = rewrite
        self.limit = service.config.max_body_bytes

    def view(self, run: Run, request: Request) -> dict[str, Any]:
        """A run as the plain API shows it (the stored, redacted run)."""
        base = f"{origin_of(request)}/api/runs/{run.id}"
        pending = None
        if run.waiting:
            interaction = self.rewrite(run.waiting["interaction"], origin_of(request))
            pending = {
                "node": run.waiting["node"],
                "visit": run.waiting.get("visit", 1),
                "kind": interaction.get("kind"),
                "data": _shown(interaction),
                "poll_interval": interaction.get("poll_interval"),
                "since": run.waiting.get("since"),
                "token": self.service.token(run),
            }
        return {
            "id": run.id,
            "flow": run.flow_id,
            "status": str(run.status),
            "pending": pending,
            "result": run.result,
            "error": run.error,
            "created_at": run.created_at,
            "updated_at": run.updated_at,
            "links": {"self": base, "continue": f"{base}/continue", "cancel": f"{base}/cancel"},
        }

    async def flows(self, request: Request) -> Response:
        return reply({"flows": [describe(f) for _, f in sorted(self.service.flows.items())]})

    async def start(self, request: Request) -> Response:
        body = await read_json(request, self.limit)
        _known(body, {"flow", "inputs", "client_id"})
        flow_id, inputs = body.get("flow"), body.get("inputs", {})
        if not isinstance(flow_id, str) or not flow_id:
            raise Refused(400, "INVALID_REQUEST", 'name the flow to start: {"flow": "<id>"}')
        if not isinstance(inputs, dict):
            raise Refused(400, "INVALID_REQUEST", "inputs must be an object")
        config = self.service.config
        client_id = body.get("client_id")
        client = config.client(client_id) if client_id is not None else config.default_client()
        if client is None:
            raise Refused(
                400,
                "INVALID_CLIENT",
                f"unknown client_id {client_id!r}"
                if client_id is not None
                else "name your client_id (this server has several clients)",
            )
        run = await self.service.start(client, flow_id, inputs)
        return reply(self.view(run, request), 201)

    async def read(self, request: Request) -> Response:
        run = await self.service.load(request.path_params["run_id"])
        return reply(self.view(run, request))

    async def resume(self, request: Request) -> Response:
        body = await read_json(request, self.limit)
        _known(body, {"token", "response"})
        response = body.get("response", {})
        if not isinstance(response, dict):
            raise Refused(
                400, "INVALID_REQUEST", "response must be an object (field values, or {})"
            )
        _before, after = await self.service.continue_run(
            request.path_params["run_id"],
            body.get("token"),
            response,
            precheck=lambda run: _check_fields(run, response),
        )
        return reply(self.view(after, request))

    async def cancel(self, request: Request) -> Response:
        body = await read_json(request, self.limit, empty={})
        _known(body, {"token"})
        run = await self.service.cancel(request.path_params["run_id"], body.get("token"))
        return reply(self.view(run, request))

    async def openapi(self, request: Request) -> Response:
        return reply(openapi_document(origin_of(request)))


def _guard(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as e:
            error = {"code": e.code, "message": e.message, "details": e.details}
            return reply({"error": error}, e.status)
        except Exception as e:  # a bug or a broken store: no traceback in the answer
            log.error("%s %s failed: %s", request.method, request.url.path, type(e).__name__)
            error = {"code": "SERVER_ERROR", "message": "The server failed; see its log"}
            return reply({"error": error}, 500)

    return guarded


def plain_routes(service: FlowService, rewrite: Callable[[Any, str], Any]) -> list[Route]:
    door = PlainDoor(service, rewrite)
    return [
        Route("/api/flows", _guard(door.flows), methods=["GET"]),
        Route("/api/runs", _guard(door.start), methods=["POST"]),
        Route("/api/runs/{run_id}", _guard(door.read), methods=["GET"]),
        Route("/api/runs/{run_id}/continue", _guard(door.resume), methods=["POST"]),
        Route("/api/runs/{run_id}/cancel", _guard(door.cancel), methods=["POST"]),
        Route("/api/openapi.json", _guard(door.openapi), methods=["GET"]),
    ]

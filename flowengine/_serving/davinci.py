"""DaVinci's JSON flow protocol (`response_mode=pi.flow`), as Ping's client SDK speaks it.

Discovery, authorize, continue (`_links.next.href` with `interactionId` / `interactionToken`
headers), the token endpoint (authorization code + PKCE S256). Response shapes follow
davinci-client-protocol.md §3.4 and §4: a continue step, a recoverable 4xx error that keeps
the form (per-field errors in `details[].rawResponse`), a failure (a 4xx with `code: 1999`,
or a 200 with `error`), a success with `authorizeResponse` and `session`, and the rewind
event that keeps a polling client on its QR code while the flow still waits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from flowengine._serving.collectors import fields_of, response_of, values_of
from flowengine._serving.http import origin_of, read_form, read_json, reply
from flowengine._serving.service import FlowService, Refused
from flowengine._storing.run import Run, RunStatus

__all__ = ["davinci_routes", "error_body"]

log = logging.getLogger("flowengine.serve")

FAILURE = 1999
"""The `code` that makes the client treat a 4xx as a failure (restart), not a form error."""
_FAILURES = {"INVALID_TOKEN", "RUN_ENDED", "UNKNOWN_RUN", "ALREADY_CONTINUED", "FLOW_CHANGED"}
_CAPABILITY = "customHTMLTemplate"
_EVENTS = ("submit", "action", "polling")
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")


def _b64url_sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def error_body(e: Refused, interaction_id: str | None = None) -> dict[str, Any]:
    """A DaVinci error body: recoverable unless the code is one the client must restart on."""
    failure = e.status >= 500 or e.code in _FAILURES
    body: dict[str, Any] = {
        "code": FAILURE if failure else e.code,
        "message": e.message,
        "errorMessage": e.message,
        "reason": e.code,
        "httpResponseCode": e.status,
        "isResponseCompatibleWithMobileAndWebSdks": True,
    }
    if interaction_id:
        body["interactionId"] = interaction_id
    if e.details:
        raw = {"code": "INVALID_DATA", "message": e.message, "details": e.details}
        body["details"] = [{"rawResponse": raw, "statusCode": e.status}]
    return body


def _screen_id(run: Run) -> str:
    """The step's `id`: the waiting node and its visit ("" when the run waits for nothing)."""
    return f"{run.waiting['node']}-{run.waiting.get('visit', 1)}" if run.waiting else ""


class _Rewind(Exception):
    """A QR code polled before its poll_interval: answer a rewind, leave the run alone."""

    def __init__(self, run: Run) -> None:
        super().__init__(run.id)
        self.run = run


class DaVinciDoor:
    """The pi.flow endpoints of one environment."""

    def __init__(self, service: FlowService, rewrite: Callable[[Any, str], Any]) -> None:
        self.service = service
        self.config = service.config
        self.env = service.config.environment
        self.rewrite = rewrite

    # ---- helpers ----------------------------------------------------------------------

    def _base(self, request: Request) -> str:
        return f"{origin_of(request)}/{self.env}"

    def _check_env(self, request: Request) -> None:
        if request.path_params.get("env") != self.env:
            raise Refused(
                404, "UNKNOWN_ENVIRONMENT", f"no environment; this server serves {self.env!r}"
            )

    def render(self, run: Run, request: Request) -> Response:
        """The answer for where the run is now: a step, a success or a failure."""
        if run.status == RunStatus.WAITING and run.waiting:
            return reply(self._step(run, request))
        if run.status == RunStatus.COMPLETED:
            return reply(self._success(run))
        error = run.error or {}
        return reply(
            {
                "interactionId": run.id,
                "environment": {"id": self.env},
                "status": "FAILED",
                "error": {
                    "code": str(error.get("code", "FLOW_FAILED")),
                    "message": str(error.get("message", "The flow failed")),
                },
            }
        )

    def _step(self, run: Run, request: Request) -> dict[str, Any]:
        assert run.waiting is not None
        interaction = self.rewrite(run.waiting["interaction"], origin_of(request))
        data = interaction.get("data") or {}
        href = f"{self._base(request)}/davinci/connections/flowengine/capabilities/{_CAPABILITY}"
        return {
            "interactionId": run.id,
            "interactionToken": self.service.token(run),
            "_links": {"next": {"href": href}, "self": {"href": href}},
            "eventName": "continue",
            "isResponseCompatibleWithMobileAndWebSdks": True,
            "id": _screen_id(run),
            "companyId": self.env,
            "flowId": run.flow_id,
            "connectionId": "flowengine",
            "capabilityName": _CAPABILITY,
            "formData": {"value": values_of(interaction)},
            "form": {
                "name": str(data.get("title", "")),
                "description": str(data.get("description", "")),
                "category": "CUSTOM_HTML",
                "components": {"fields": fields_of(interaction)},
            },
        }

    def _success(self, run: Run) -> dict[str, Any]:
        body: dict[str, Any] = {
            "interactionId": run.id,
            "id": run.id[:10],
            "connectorId": "flowengine",
            "capabilityName": "returnSuccessResponseRedirect",
            "environment": {"id": self.env},
            "status": "COMPLETED",
            "success": True,
            "session": {"id": hashlib.sha256(f"session:{run.id}".encode()).hexdigest()[:32]},
        }
        auth = self.service.ledger.auth(run.id)
        if auth is not None:
            code = secrets.token_urlsafe(32)
            grant = {
                "run_id": run.id,
                "flow_id": run.flow_id,
                "client_id": auth["client_id"],
                "redirect_uri": auth["redirect_uri"],
                "code_challenge": auth["code_challenge"],
                "scope": auth.get("scope", "openid"),
                "expires_at": time.time() + self.config.code_ttl,
            }
            self.service.ledger.save_code(code, grant)
            body["authorizeResponse"] = {"code": code, "state": auth.get("state", "")}
        return body

    # ---- endpoints --------------------------------------------------------------------

    async def discovery(self, request: Request) -> Response:
        self._check_env(request)
        base = self._base(request)
        return reply(
            {
                "issuer": f"{base}/as",
                "authorization_endpoint": f"{base}/as/authorize",
                "token_endpoint": f"{base}/as/token",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["none"],
                "scopes_supported": ["openid", "profile", "email", "phone"],
            }
        )

    async def authorize(self, request: Request) -> Response:
        self._check_env(request)
        params: dict[str, str] = {}
        if request.method == "POST":
            kind = request.headers.get("content-type", "")
            if kind.startswith("application/x-www-form-urlencoded"):
                params.update(await read_form(request, self.config.max_body_bytes))
        params.update(request.query_params)  # the query wins, as the SDK sets it last
        client = self.config.client(params.get("client_id"))
        if client is None:
            raise Refused(400, "invalid_client", f"unknown client_id {params.get('client_id')!r}")
        redirect = params.get("redirect_uri", "")
        if not client.allows_redirect(redirect):
            raise Refused(
                400,
                "invalid_request",
                f"redirect_uri {redirect!r} is not registered for this client",
            )
        if params.get("response_type", "code") != "code":
            raise Refused(400, "unsupported_response_type", "only response_type=code is served")
        if params.get("response_mode") != "pi.flow":
            raise Refused(
                400, "invalid_request", "only response_mode=pi.flow is served (JSON, no redirect)"
            )
        challenge = params.get("code_challenge", "")
        if params.get("code_challenge_method") != "S256" or not _CHALLENGE.match(challenge):
            raise Refused(
                400, "invalid_request", "PKCE is required: code_challenge with method S256"
            )
        flow_id = self._flow_for(client, params.get("acr_values", ""))
        run = await self.service.start(client, flow_id, {})
        self.service.ledger.save_auth(
            run.id,
            {
                "client_id": client.client_id,
                "redirect_uri": redirect,
                "state": params.get("state", ""),
                "code_challenge": challenge,
                "scope": params.get("scope", "openid"),
            },
        )
        return self.render(run, request)

    def _flow_for(self, client: Any, acr_values: str) -> str:
        names = acr_values.split()
        for name in names:
            if name in self.service.flows:
                return name
        if names:
            served = ", ".join(sorted(self.service.flows))
            raise Refused(
                400,
                "UNKNOWN_FLOW",
                f"acr_values {acr_values!r} names no served flow; served: {served}",
            )
        if client.default_flow:
            return str(client.default_flow)
        startable = [f for f in self.service.flows if client.may_start(f)]
        if len(startable) == 1:
            return startable[0]
        raise Refused(
            400,
            "UNKNOWN_FLOW",
            f"name the flow with acr_values: one of {', '.join(sorted(startable))}",
        )

    async def next(self, request: Request) -> Response:
        self._check_env(request)
        run_id = request.headers.get("interactionId")
        token = request.headers.get("interactionToken")
        body = await read_json(request, self.config.max_body_bytes)
        if not run_id:
            raise Refused(401, "INVALID_TOKEN", "the interactionId header is missing")
        if body.get("interactionId") not in (None, run_id):
            raise Refused(400, "INVALID_REQUEST", "the body's interactionId is not the header's")
        parameters = body.get("parameters")
        if not isinstance(parameters, dict):
            raise Refused(400, "INVALID_REQUEST", "the body needs parameters: {eventType, data}")
        event, data = parameters.get("eventType"), parameters.get("data", {})
        if event not in _EVENTS:
            raise Refused(400, "INVALID_REQUEST", f"parameters.eventType must be one of {_EVENTS}")
        if not isinstance(data, dict):
            raise Refused(400, "INVALID_REQUEST", "parameters.data must be an object")
        action = data.get("actionKey", "")
        if not isinstance(action, str):
            raise Refused(400, "INVALID_REQUEST", "parameters.data.actionKey must be a string")
        kept: list[str] = []

        def respond(run: Run, token_step: str) -> Any:
            assert run.waiting is not None
            interaction = run.waiting["interaction"]
            if interaction.get("kind") == "qr" and event != "action":
                waited = self.service.engine.clock.now() - float(run.waiting["since"])
                if waited < float(interaction.get("poll_interval") or 0):
                    raise _Rewind(run)  # not yet: the run is not touched
            kept.append(token_step)
            return response_of(interaction, event, action, data.get("formData"))

        try:
            before, after = await self.service.continue_run(run_id, token, respond=respond)
        except _Rewind as rewind:
            return reply(self._rewind(rewind.run))
        return self._after(before, after, kept[0], request)

    def _rewind(self, run: Run) -> dict[str, Any]:
        return {
            "eventName": "rewindStateToLastRenderedUI",
            "success": True,
            "id": _screen_id(run),
            "interactionId": run.id,
        }

    def _after(self, before: Run, after: Run, token_step: str, request: Request) -> Response:
        if after.status == RunStatus.WAITING and after.waiting and before.waiting:
            same_node = after.waiting["node"] == before.waiting["node"]
            now = after.waiting["interaction"]
            if same_node and now.get("kind") == "qr" == before.waiting["interaction"].get("kind"):
                self.service.keep_token(after, token_step)  # still polling the same code
                return reply(self._rewind(after))
            errors = (now.get("data") or {}).get("errors") if now.get("kind") == "form" else None
            if same_node and errors:
                self.service.keep_token(after, token_step)  # the client keeps form and token
                details = [
                    {"code": "INVALID_VALUE", "target": k, "message": str(v)}
                    for k, v in errors.items()
                ]
                refused = Refused(400, "INVALID_DATA", "Check the highlighted fields", details)
                return reply(error_body(refused, after.id), 400)
        return self.render(after, request)

    async def token(self, request: Request) -> Response:
        self._check_env(request)
        try:
            form = await read_form(request, self.config.max_body_bytes)
        except Refused as e:
            return _oauth_error("invalid_request", e.message, e.status)
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "only grant_type=authorization_code")
        missing = [
            k for k in ("code", "client_id", "redirect_uri", "code_verifier") if not form.get(k)
        ]
        if missing:
            return _oauth_error("invalid_request", f"missing {', '.join(missing)}")
        grant = self.service.ledger.use_code(form["code"])  # used now, whatever follows
        if grant is None or grant["expires_at"] < time.time():
            return _oauth_error("invalid_grant", "the code is unknown, used or expired")
        if grant["client_id"] != form["client_id"] or grant["redirect_uri"] != form["redirect_uri"]:
            return _oauth_error(
                "invalid_grant", "the code was issued to another client or redirect_uri"
            )
        verifier = _b64url_sha256(form["code_verifier"]).encode()
        if not hmac.compare_digest(verifier, str(grant["code_challenge"]).encode()):
            return _oauth_error("invalid_grant", "code_verifier does not match the code_challenge")
        now = int(time.time())
        base = self._base(request)
        claims = {
            "iss": f"{base}/as",
            "aud": grant["client_id"],
            "sub": grant["run_id"],
            "acr": grant["flow_id"],
            "iat": now,
            "auth_time": now,
            "exp": now + 3600,
        }
        return reply(
            {
                "access_token": secrets.token_urlsafe(32),
                "id_token": _unsigned_jwt(claims),
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": grant.get("scope", "openid"),
            }
        )


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return reply({"error": error, "error_description": description}, status)


def _guard(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Refusals become DaVinci error bodies; anything else a 500 without its details."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as e:
            return reply(error_body(e, request.headers.get("interactionId")), e.status)
        except Exception as e:  # a bug or a broken store: no traceback in the answer
            log.error("pi.flow %s failed: %s", request.url.path, type(e).__name__)
            refused = Refused(500, "SERVER_ERROR", "The server failed; see its log")
            return reply(error_body(refused), 500)

    return guarded


def davinci_routes(service: FlowService, rewrite: Callable[[Any, str], Any]) -> list[Route]:
    door = DaVinciDoor(service, rewrite)
    return [
        Route(
            "/{env}/as/.well-known/openid-configuration", _guard(door.discovery), methods=["GET"]
        ),
        Route("/{env}/as/authorize", _guard(door.authorize), methods=["GET", "POST"]),
        Route(
            "/{env}/davinci/connections/{connection}/capabilities/{capability}",
            _guard(door.next),
            methods=["POST"],
        ),
        Route("/{env}/as/token", _guard(door.token), methods=["POST"]),
    ]

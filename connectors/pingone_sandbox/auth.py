"""OAuth client credentials for the sandbox: the token endpoint and the bearer check.

Tokens are opaque random strings; the store keeps only their SHA-256, so neither the SQLite
file nor any log holds a usable token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote_plus

from starlette.requests import Request
from starlette.responses import Response

from .errors import access_failed
from .http import json_response, media_type

if TYPE_CHECKING:
    from .box import Box

__all__ = ["Auth", "token_endpoint"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _oauth_error(status: int, error: str, description: str) -> Response:
    # OAuth errors use RFC 6749's body, not PingOne's management envelope.
    body = {"error": error, "error_description": description}
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="PingOne"'
    return json_response(body, status, headers)


class Auth:
    """Issues and checks bearer tokens for one sandbox."""

    def __init__(self, sandbox: Box) -> None:
        self.sandbox = sandbox

    def issue(self, env_id: str, client_id: str) -> dict[str, Any]:
        """A new token response for a client of an environment."""
        token = secrets.token_urlsafe(32)
        lifetime = self.sandbox.config.token_lifetime
        record = {"env": env_id, "client": client_id, "exp": self.sandbox.clock.now() + lifetime}
        self.sandbox.store.put("token", _digest(token), record)
        return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime}

    def check(self, env_id: str, request: Request) -> None:
        """Raise 401 ACCESS_FAILED unless the request carries a live token of this environment."""
        header = request.headers.get("authorization")
        if not header or not header[:7].lower() == "bearer ":
            raise access_failed("An access token is required: send Authorization: Bearer <token>")
        record = self.sandbox.store.get("token", _digest(header[7:].strip()))
        if record is None or record["env"] != env_id:
            raise access_failed("The access token is not valid for this environment")
        if record["exp"] <= self.sandbox.clock.now():
            raise access_failed("The access token has expired; request a new one")

    def expire_all(self, env_id: str) -> int:
        """Expire every token of an environment now (the `expire_tokens` fault)."""
        now = self.sandbox.clock.now()
        count = 0
        for key, record in self.sandbox.store.items("token"):
            if record["env"] == env_id and record["exp"] > now:
                self.sandbox.store.put("token", key, {**record, "exp": now})
                count += 1
        return count


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str] | None:
    """client_id/secret from Basic auth (CLIENT_SECRET_BASIC) or the form (CLIENT_SECRET_POST)."""
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, _, secret = decoded.partition(":")
        # Form-decoded as RFC 6749 §2.3.1 asks (':' in a secret arrives as %3A).
        return unquote_plus(client_id), unquote_plus(secret)
    if "client_id" in form:
        return form["client_id"], form.get("client_secret", "")
    return None


async def token_endpoint(sandbox: Box, request: Request) -> Response:
    """`POST /{envId}/as/token` (grant_type=client_credentials)."""
    env_id = request.path_params["envId"]
    clients = sandbox.config.clients(env_id)
    if clients is None:
        return _oauth_error(400, "invalid_request", f"Unknown environment {env_id!r}")
    if media_type(request) != "application/x-www-form-urlencoded":
        return _oauth_error(
            400, "invalid_request", "Send the token request as application/x-www-form-urlencoded"
        )
    raw = parse_qs((await request.body()).decode("utf-8", "replace"))
    form = {key: values[0] for key, values in raw.items()}
    grant = form.get("grant_type")
    if grant != "client_credentials":
        return _oauth_error(
            400, "unsupported_grant_type", f"grant_type must be client_credentials, got {grant!r}"
        )
    credentials = _client_credentials(request, form)
    if credentials is None:
        return _oauth_error(401, "invalid_client", "Client authentication is required")
    client_id, secret = credentials
    expected = clients.get(client_id)
    if expected is None or not secrets.compare_digest(expected.encode(), secret.encode()):
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    sandbox.environment(env_id)
    return json_response(sandbox.auth.issue(env_id, client_id), 200, {"Cache-Control": "no-store"})

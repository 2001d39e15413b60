"""Client-credentials auth for a PingOne worker app, as an httpx.Auth.

The token is fetched once, kept until shortly before it expires, and fetched again once when
PingOne answers 401 (it was revoked, or the sandbox's clock moved past its expiry). Neither
the secret nor the token is ever put into a message, a log line or a repr.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx
from flowengine_connectors.pingone._errors import PingOneError
from flowengine_connectors.pingone._retry import RETRY_STATUSES, RetryPolicy

from flowengine import Clock, SystemClock

__all__ = ["ClientCredentialsAuth"]

log = logging.getLogger("flowengine_connectors.pingone")

EXPIRY_LEEWAY = 60.0
"""Seconds before its expiry that a token stops being used."""
DEFAULT_LIFETIME = 3600.0


@dataclass
class _Token:
    value: str
    expires_at: float

    def __repr__(self) -> str:
        return f"_Token(expires_at={self.expires_at})"


class ClientCredentialsAuth(httpx.Auth):
    """Bearer auth that gets its token with client_secret_basic from `token_url`."""

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        # RFC 6749 §2.3.1: both are form-encoded before Basic (Go's oauth2, PingOne's SDK, too),
        # so a secret holding ':', '%' or '+' reaches the server intact.
        pair = f"{quote_plus(client_id, safe='')}:{quote_plus(client_secret, safe='')}"
        self._basic = "Basic " + base64.b64encode(pair.encode()).decode()
        self.clock: Clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self.token_requests = 0
        self._token: _Token | None = None
        self._lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(token_url={self.token_url!r}, client_id={self.client_id!r})"

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Refuse synchronous use: the PingOne client is async only."""
        raise RuntimeError("the PingOne client is async only; use httpx.AsyncClient")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Add the bearer token, fetching it first if needed and once more after a 401."""
        refused: _Token | None = None
        while True:
            token = self._valid() if refused is None else None
            if token is None:
                # One fetch for requests that start together (a parallel block, or several
                # refused at once after a 401): the others wait and take its token.
                async with self._guard():
                    token = self._usable(refused)
                    if token is None:
                        response = yield self._token_request()
                        attempt = 0
                        while await self._wait_to_retry(response, attempt):
                            response = yield self._token_request()
                            attempt += 1
                        token = await self._fetch(response)
            request.headers["Authorization"] = f"Bearer {token.value}"
            response = yield request
            if response.status_code != 401 or refused is not None:
                return  # refresh once: a second 401 is the caller's answer
            await response.aread()
            refused = token

    def _usable(self, refused: _Token | None) -> _Token | None:
        """The cached token to use: a valid one, or after a 401 one that replaced `refused`."""
        if refused is None:
            return self._valid()
        token = self._token
        return token if token is not None and token is not refused else None

    def _valid(self) -> _Token | None:
        token = self._token
        if token is not None and self.clock.now() < token.expires_at - EXPIRY_LEEWAY:
            return token
        return None

    def _guard(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _wait_to_retry(self, response: httpx.Response, attempt: int) -> bool:
        """After a 429 / 5xx from the token endpoint: wait and say True while tries are left."""
        if response.status_code not in RETRY_STATUSES or attempt >= self.retry.max_retries:
            return False
        await response.aread()
        retry_after = response.headers.get("retry-after")
        await self.clock.sleep(self.retry.delay(attempt, retry_after, self.clock.now()))
        return True

    def _token_request(self) -> httpx.Request:
        self.token_requests += 1
        return httpx.Request(
            "POST",
            self.token_url,
            headers={
                "Authorization": self._basic,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            content=b"grant_type=client_credentials",
        )

    async def _fetch(self, response: httpx.Response) -> _Token:
        await response.aread()
        if response.status_code != 200:
            raise _token_error(response, self.client_id, self.token_url)
        try:
            body: dict[str, Any] = response.json()
            value = str(body["access_token"])
        except (ValueError, KeyError, TypeError) as e:
            raise PingOneError(
                f"PingOne's token endpoint {self.token_url} answered 200 without an access_token",
                code="INVALID_TOKEN_RESPONSE",
                status_code=response.status_code,
                correlation_id=correlation_id(response),
            ) from e
        lifetime = _lifetime(body.get("expires_in"))
        self._token = _Token(value, self.clock.now() + lifetime)
        log.debug("PingOne token fetched for client %s (valid %ss)", self.client_id, lifetime)
        return self._token


def _lifetime(expires_in: Any) -> float:
    try:
        return float(expires_in)
    except (TypeError, ValueError):
        return DEFAULT_LIFETIME


def correlation_id(response: httpx.Response) -> str | None:
    """PingOne's correlation id for a response, from its headers."""
    for name in ("correlation-id", "x-correlation-id", "x-amzn-requestid"):
        if name in response.headers:
            return response.headers[name]
    return None


def _token_error(response: httpx.Response, client_id: str, token_url: str) -> PingOneError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    reason = body.get("error") or body.get("code") or f"HTTP {response.status_code}"
    described = body.get("error_description") or body.get("message") or ""
    return PingOneError(
        f"PingOne refused the client credentials of client {client_id!r} at {token_url} "
        f"({reason}{': ' + described if described else ''}); check client_id, client_secret, "
        "environment_id and region in the connection settings",
        code="AUTHENTICATION_FAILED",
        status_code=response.status_code,
        correlation_id=correlation_id(response),
        details=[{"code": str(reason)}],
    )

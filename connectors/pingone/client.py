"""The PingOne client shared by the `pingone` and `pingone_verify` connectors.

One `PingOneClient` per connection: one httpx.AsyncClient (reused: creating one costs about
20 ms), a client-credentials token cached until shortly before it expires, retries with
backoff that sleep on the flowengine Clock, and PingOne's error envelopes turned into
`PingOneError`. Regions map to hosts as in the API reference §1.1; `sandbox` (with no
api_url) targets the embedded emulator in-process through its transport: the process's
`default_sandbox()`, or the one a `with use_sandbox(box):` block chose (the seam tests use).
A `transport=` argument overrides both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import httpx
from flowengine_connectors.pingone._auth import ClientCredentialsAuth, correlation_id
from flowengine_connectors.pingone._errors import PingOneError
from flowengine_connectors.pingone._retry import RetryPolicy, parse_retry_after

from flowengine import Clock, SystemClock

__all__ = [
    "REGIONS",
    "SANDBOX_HOST",
    "PingOneClient",
    "PingOneResponse",
    "PingOneSettings",
    "close_client",
    "open_client",
    "tag_calls",
]

log = logging.getLogger("flowengine_connectors.pingone")

REGIONS: dict[str, str] = {
    "NA": "com",
    "EU": "eu",
    "CA": "ca",
    "AU": "com.au",
    "SG": "sg",
    "AP": "asia",
}
"""Region code -> top-level domain of api.pingone.<tld> and auth.pingone.<tld>."""
SANDBOX_HOST = "http://sandbox.pingone.local"
HIDDEN_HEADERS = frozenset({"set-cookie", "authorization", "www-authenticate"})
"""Response headers never handed to flows (cookies, auth challenges)."""
_CALLER: ContextVar[tuple[str, str] | None] = ContextVar("pingone_caller", default=None)
"""(session id, transaction id) of the node calling, per asyncio task (parallel branches)."""
_NOT_TELEMETRY = re.compile(r"[^\w.\-/@=#+]")


def tag_calls(run_id: str, node_id: str, visit: int) -> None:
    """Send PingOne's telemetry headers with this task's calls: the run, and the node visit."""
    # The substitution is per character and keeps "/" and "#": the ids are cleaned apart
    # (cached, they repeat on every visit) and joined, as cleaning the joined text would do.
    session = _telemetry_text(run_id)
    transaction = f"{session}/{_telemetry_text(node_id)}#{visit}"[:100]
    _CALLER.set((session[:100], transaction))


@lru_cache(maxsize=4096)
def _segment(text: str) -> str:
    """`text` URL-escaped as one path segment (cached: ids repeat on every call of a run)."""
    return quote(text, safe="")


@lru_cache(maxsize=1024)
def _telemetry_text(text: str) -> str:
    """`text` with every character a telemetry header does not allow replaced by "_"."""
    return _NOT_TELEMETRY.sub("_", text)


@dataclass(frozen=True)
class PingOneSettings:
    """A connection's settings, checked; the secret is kept out of the repr."""

    environment_id: str
    client_id: str
    client_secret: str = field(repr=False)
    region: str
    api_url: str = ""
    auth_url: str = ""
    timeout: float = 30.0

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> PingOneSettings:
        """Check rendered connection settings; errors name the missing or bad setting."""
        missing = [
            k for k in ("environment_id", "client_id", "client_secret") if not settings.get(k)
        ]
        if missing:
            raise PingOneError(
                f"PingOne connection settings lack {', '.join(missing)}; set them under the "
                "connection's settings (e.g. client_secret: ${PINGONE_CLIENT_SECRET})",
                code="INVALID_SETTINGS",
            )
        # No default region: the flow file decides (region: ${PINGONE_REGION:-sandbox}), so
        # a connection meant for a real PingOne never lands on the embedded sandbox.
        region = str(settings.get("region") or "").strip()
        if not region:
            raise PingOneError(
                "PingOne connection settings lack region; set region: one of "
                f"{', '.join(REGIONS)} for a PingOne environment, or sandbox for the embedded "
                "sandbox (the shipped flows write region: ${PINGONE_REGION:-sandbox})",
                code="INVALID_SETTINGS",
            )
        region = "sandbox" if region.lower() == "sandbox" else region.upper()
        if region != "sandbox" and region not in REGIONS:
            raise PingOneError(
                f"Unknown PingOne region {region!r}; use one of "
                f"{', '.join([*REGIONS, 'sandbox'])}, or set api_url and auth_url",
                code="INVALID_SETTINGS",
            )
        return cls(
            environment_id=str(settings["environment_id"]),
            client_id=str(settings["client_id"]),
            client_secret=str(settings["client_secret"]),
            region=region,
            api_url=str(settings.get("api_url") or "").rstrip("/"),
            auth_url=str(settings.get("auth_url") or "").rstrip("/"),
            timeout=float(settings.get("timeout") or 30.0),
        )

    @property
    def embedded(self) -> bool:
        """True when requests go in-process to the embedded sandbox."""
        return self.region == "sandbox" and not self.api_url

    @property
    def api_base(self) -> str:
        """The API base URL, ending in /v1."""
        if self.api_url:
            return self.api_url
        if self.region == "sandbox":
            return f"{SANDBOX_HOST}/v1"
        return f"https://api.pingone.{REGIONS[self.region]}/v1"

    @property
    def token_url(self) -> str:
        """The token endpoint: <auth host>/<envId>/as/token, or an auth_url ending in /as/token."""
        if self.auth_url.endswith("/as/token"):
            return self.auth_url  # a custom domain's token endpoint carries no environment id
        if self.auth_url:
            host = self.auth_url
        elif self.region == "sandbox":
            host = self.api_base.removesuffix("/v1") if self.api_url else SANDBOX_HOST
        else:
            host = f"https://auth.pingone.{REGIONS[self.region]}"
        return f"{host}/{quote(self.environment_id, safe='')}/as/token"


@dataclass(frozen=True)
class PingOneResponse:
    """A successful PingOne answer: status, the headers flows may see, and the JSON body."""

    status_code: int
    headers: dict[str, str]
    body: Any

    def output(self, key: str | None = None) -> dict[str, Any]:
        """The documented output shape: `<key>`, `rawResponse`, `headers`, `statusCode`."""
        body = self.body if self.body is not None else {}
        out: dict[str, Any] = {"rawResponse": body, "headers": self.headers}
        out["statusCode"] = self.status_code
        if key:
            out[key] = body
        return out


class PingOneClient:
    """An async PingOne API client for one connection's settings."""

    def __init__(
        self,
        settings: PingOneSettings | Mapping[str, Any],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not isinstance(settings, PingOneSettings):
            settings = PingOneSettings.from_mapping(settings)
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self.auth = ClientCredentialsAuth(
            settings.token_url, settings.client_id, settings.client_secret, self.clock, self.retry
        )
        if transport is None and settings.embedded:
            transport = _sandbox_transport()
        self._http = httpx.AsyncClient(
            transport=transport,
            auth=self.auth,
            timeout=httpx.Timeout(settings.timeout, connect=min(10.0, settings.timeout)),
            headers={"Accept": "application/json", "User-Agent": "flowengine-pingone/0.1"},
        )

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"PingOneClient(environment_id={s.environment_id!r}, client_id={s.client_id!r}, "
            f"region={s.region!r}, api_url={s.api_base!r})"
        )

    @property
    def environment_id(self) -> str:
        """The connection's PingOne environment ID."""
        return self.settings.environment_id

    def env_path(self, *segments: Any) -> str:
        """`/environments/<env>/<segments...>` with every segment URL-escaped."""
        parts = [self.environment_id, *segments]
        return "/environments/" + "/".join([_segment(str(p)) for p in parts])

    def use_clock(self, clock: Clock) -> None:
        """Sleep between retries and judge token expiry on this clock (the run's)."""
        self.clock = self.auth.clock = clock

    async def __aenter__(self) -> PingOneClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client (its connection pool)."""
        await self._http.aclose()

    async def get(self, path: str, **kw: Any) -> PingOneResponse:
        """GET `path` (see `request`)."""
        return await self.request("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> PingOneResponse:
        """POST `path` (see `request`); not retried once it may have reached PingOne."""
        return await self.request("POST", path, **kw)

    async def put(self, path: str, **kw: Any) -> PingOneResponse:
        """PUT `path` (see `request`)."""
        return await self.request("PUT", path, **kw)

    async def delete(self, path: str, **kw: Any) -> PingOneResponse:
        """DELETE `path` (see `request`)."""
        return await self.request("DELETE", path, **kw)

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        content_type: str | None = None,
        idempotent: bool | None = None,
    ) -> PingOneResponse:
        """Call `path` (under the API base); retry what may be retried; raise PingOneError."""
        request = self._build(method, path, json, params, content_type)
        response = await self._send_with_retries(request, idempotent)
        return _parse(response, request, self.clock.now())

    def _build(
        self,
        method: str,
        path: str,
        body: Any,
        params: Mapping[str, Any] | None,
        content_type: str | None,
    ) -> httpx.Request:
        url = path if path.startswith("http") else self.settings.api_base + path
        query = {k: v for k, v in (params or {}).items() if v is not None}
        # Only what is given: httpx parses the URL again for params, even empty ones (~100 µs).
        extra: dict[str, Any] = {"params": query} if query else {}
        if body is not None:
            extra["json"] = body
        request = self._http.build_request(method, url, **extra)
        if content_type and body is not None:
            request.headers["Content-Type"] = content_type
        caller = _CALLER.get()
        if caller is not None:
            request.headers["X-Ping-External-Session-ID"] = caller[0]
            request.headers["X-Ping-External-Transaction-ID"] = caller[1]
        return request

    async def _send_with_retries(
        self, request: httpx.Request, idempotent: bool | None
    ) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self._http.send(request)
            except httpx.TransportError as e:
                if attempt >= self.retry.max_retries or not self.retry.may_retry_error(
                    request.method, e, idempotent
                ):
                    raise _transport_error(e, request) from None
                await self._wait(attempt, None, request, type(e).__name__)
            else:
                if attempt >= self.retry.max_retries or not self.retry.may_retry_status(
                    request.method, response.status_code, idempotent
                ):
                    return response
                await self._wait(
                    attempt, response.headers.get("retry-after"), request, response.status_code
                )
            attempt += 1

    async def _wait(
        self, attempt: int, retry_after: str | None, request: httpx.Request, why: Any
    ) -> None:
        delay = self.retry.delay(attempt, retry_after, self.clock.now())
        log.info(
            "PingOne %s %s: %s, retry %d in %.2fs",
            request.method,
            request.url.path,
            why,
            attempt + 1,
            delay,
        )
        await self.clock.sleep(delay)


def _parse(response: httpx.Response, request: httpx.Request, now: float) -> PingOneResponse:
    # httpx gives header names lower-cased.
    headers = {k: v for k, v in response.headers.items() if k not in HIDDEN_HEADERS}
    body: Any = None
    if response.content:
        try:
            body = response.json()
        except ValueError:
            body = {"text": response.text[:2000]}
    if response.is_success:
        return PingOneResponse(response.status_code, headers, body)
    raise _status_error(response, request, body, now)


def _status_error(
    response: httpx.Response, request: httpx.Request, body: Any, now: float
) -> PingOneError:
    """PingOne's error envelope as a PingOneError; a Retry-After header (a 429 or 503 that
    the client's own retries gave up on) tells a node's `retry:` how long to wait."""
    envelope = body if isinstance(body, dict) else {}
    code = str(envelope.get("code") or f"HTTP_{response.status_code}")
    message = str(envelope.get("message") or response.reason_phrase or "no message")
    found = envelope.get("details")
    details: list[Any] = found if isinstance(found, list) else []
    return PingOneError(
        f"PingOne answered {response.status_code} {code} to {request.method} "
        f"{request.url.path}: {message}{_detail_codes(details)}",
        code=code,
        details=details,
        status_code=response.status_code,
        correlation_id=correlation_id(response) or envelope.get("id"),
        retry_after=parse_retry_after(response.headers.get("retry-after"), now),
    )


def _detail_codes(details: list[Any]) -> str:
    """The details' targets and codes, e.g. " (username: UNIQUENESS_VIOLATION)".

    The envelope's message is generic ("One or more validation errors ..."); the details say
    which field and why. Their own messages may quote the submitted values (personal data), so
    only the target and code go into the message; `details` keeps everything.
    """
    parts = []
    for detail in details[:5]:
        if isinstance(detail, dict) and (detail.get("code") or detail.get("target")):
            target, why = detail.get("target"), detail.get("code") or "invalid"
            parts.append(f"{target}: {why}" if target else str(why))
    more = f", and {len(details) - 5} more" if len(details) > 5 else ""
    return f" ({'; '.join(parts)}{more})" if parts else ""


def _transport_error(error: httpx.TransportError, request: httpx.Request) -> PingOneError:
    timeout = isinstance(error, httpx.TimeoutException)
    # httpx's text names the cause (refused, unknown host); it never holds headers or bodies.
    cause = f" ({error})" if str(error) and not timeout else ""
    return PingOneError(
        f"PingOne could not be reached for {request.method} {request.url.host}{request.url.path}: "
        f"{type(error).__name__}{' (timed out)' if timeout else cause}; check the connection's "
        "region or api_url, and that the host is up (a served sandbox: flowengine sandbox serve)",
        code="TIMEOUT" if timeout else "NETWORK_ERROR",
    )


def _sandbox_transport() -> httpx.AsyncBaseTransport:
    """The in-process transport of the embedded sandbox (chosen with `use_sandbox`)."""
    # Imported late: the sandbox (Starlette app, verification logic) is only needed by
    # connections that target it.
    from flowengine_connectors.pingone_sandbox import default_sandbox

    transport: httpx.AsyncBaseTransport = default_sandbox().transport()
    return transport


def open_client(settings: Mapping[str, Any]) -> PingOneClient:
    """Connector.open: build the connection's client from its rendered settings."""
    return PingOneClient(settings)


async def close_client(client: PingOneClient) -> None:
    """Connector.close: release the connection's HTTP client."""
    await client.aclose()

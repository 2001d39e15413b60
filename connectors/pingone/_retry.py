"""When and how long the PingOne client waits before trying a request again.

Ping's guidance: retry 408, 429, 500, 502, 503 and 504 with exponential backoff and jitter,
honouring `Retry-After`. A POST creates things, so it is retried only when PingOne cannot
have acted on it: the connection was never made, or PingOne said 429 / 503 (it refused the
request before doing anything, and says when to come back).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

__all__ = ["RETRY_STATUSES", "RetryPolicy", "never_sent"]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REFUSED_STATUSES = frozenset({429, 503})
"""Statuses that mean the server refused the request without acting on it."""
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def never_sent(error: httpx.TransportError) -> bool:
    """True when the request cannot have reached the server (no connection was made)."""
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


@dataclass
class RetryPolicy:
    """How many times to retry, and the backoff between tries (seconds)."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    retry_after_cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def may_retry_status(self, method: str, status: int, idempotent: bool | None) -> bool:
        """Whether a response with this status may be retried for this method."""
        if status not in RETRY_STATUSES:
            return False
        if self._idempotent(method, idempotent):
            return True
        return status in REFUSED_STATUSES

    def may_retry_error(
        self, method: str, error: httpx.TransportError, idempotent: bool | None
    ) -> bool:
        """Whether a transport error may be retried for this method."""
        return never_sent(error) or self._idempotent(method, idempotent)

    def delay(self, attempt: int, retry_after: str | None = None, now: float = 0.0) -> float:
        """Seconds to wait before retry number `attempt` (0 for the first retry)."""
        waited = parse_retry_after(retry_after, now)
        if waited is not None:
            return min(waited, self.retry_after_cap)
        backoff = min(self.backoff_cap, self.backoff_base * (2**attempt))
        # Full jitter on top of the backoff spreads clients that failed together.
        return backoff + self.rng.uniform(0, self.backoff_base)

    @staticmethod
    def _idempotent(method: str, idempotent: bool | None) -> bool:
        return idempotent if idempotent is not None else method.upper() in IDEMPOTENT_METHODS


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds asked for by a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)

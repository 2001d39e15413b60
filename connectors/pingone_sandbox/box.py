"""What a route handler sees of the sandbox: the `Box` protocol and the `Handler` type.

The route modules (users, policies, transactions, documents, webverify, admin, auth) and the
rules beneath them (machine, outbox) take a `Box`; `app.Sandbox` is the one that satisfies it
and assembles their routes. This module sits below them all, so none of them imports the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from flowengine import Clock

from .config import SandboxConfig
from .faults import Faults
from .state import Store

__all__ = ["Box", "Handler", "Tokens"]


class Tokens(Protocol):
    """The sandbox's bearer tokens (`auth.Auth`)."""

    def issue(self, env_id: str, client_id: str) -> dict[str, Any]:
        """A new token response for a client of an environment."""
        ...

    def check(self, env_id: str, request: Request) -> None:
        """Raise 401 unless the request carries a live token of this environment."""
        ...

    def expire_all(self, env_id: str) -> int:
        """Expire every token of an environment now."""
        ...


class Box(Protocol):
    """One sandbox's state and services, as its handlers use them."""

    base_url: str
    clock: Clock
    config: SandboxConfig
    store: Store
    faults: Faults
    data_path: str | Path | None

    @property
    def auth(self) -> Tokens:
        """Issues and checks the bearer tokens."""
        ...

    def now(self) -> float:
        """The sandbox's current time (epoch seconds) from its clock."""
        ...

    def environment(self, env_id: str) -> dict[str, Any]:
        """The environment, provisioned (with its default Verify policy) on first use."""
        ...


Handler = Callable[[Box, Request], Awaitable[Response]]
"""A route handler: the sandbox and the request in, the response out."""

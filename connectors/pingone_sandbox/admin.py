"""Admin endpoints (only when the config says `admin: true`): faults and time travel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from .errors import invalid_data
from .http import json_body, json_response
from .outbox import notifications
from .timetravel import advance_error

if TYPE_CHECKING:
    from .box import Box

__all__ = ["ROUTES"]


async def list_faults(sandbox: Box, request: Request) -> Response:
    """GET /admin/faults: the active fault rules."""
    return json_response({"faults": [r.to_dict() for r in sandbox.faults.rules]})


async def add_fault(sandbox: Box, request: Request) -> Response:
    """POST /admin/faults: add a fault rule (400 naming the bad field)."""
    try:
        rule = sandbox.faults.add(await json_body(request))
    except ValueError as exc:
        raise invalid_data("fault", str(exc)) from None
    return json_response(rule.to_dict(), 201)


async def clear_faults(sandbox: Box, request: Request) -> Response:
    """DELETE /admin/faults: remove every rule."""
    sandbox.faults.clear()
    return Response(status_code=204)


async def advance_clock(sandbox: Box, request: Request) -> Response:
    """POST /admin/clock: move the sandbox clock forward by `seconds`."""
    seconds = (await json_body(request)).get("seconds")
    if seconds == 0 and not isinstance(seconds, bool):
        return json_response({"now": sandbox.clock.utcnow().isoformat()})  # a no-op, as before
    problem = advance_error(seconds, sandbox.clock.now())
    if problem is not None:
        raise invalid_data("seconds", f"seconds {problem}", "OUT_OF_RANGE")
    advance = getattr(sandbox.clock, "advance", None)
    if advance is None:
        raise invalid_data("seconds", "this sandbox's clock cannot be moved")
    advance(seconds)
    return json_response({"now": sandbox.clock.utcnow().isoformat()})


async def list_notifications(sandbox: Box, request: Request) -> Response:
    """GET /admin/notifications: the emails / SMS the sandbox would have sent."""
    env_id = request.query_params.get("environment")
    return json_response({"notifications": notifications(sandbox, env_id)})


ROUTES = [
    ("/admin/faults", list_faults, ["GET"]),
    ("/admin/faults", add_fault, ["POST"]),
    ("/admin/faults", clear_faults, ["DELETE"]),
    ("/admin/clock", advance_clock, ["POST"]),
    ("/admin/notifications", list_notifications, ["GET"]),
]

"""Users: CRUD, list with a SCIM filter, and the deprecated verifyStatus."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, ensure_unique, invalid_data, not_found
from .http import env_url, json_body, json_response, page
from .machine import drop_transaction
from .scim import compile_filter
from .state import iso, new_id

if TYPE_CHECKING:
    from .box import Box

__all__ = ["ROUTES", "get_user"]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_READ_ONLY = {"id", "_links", "environment", "createdAt", "updatedAt", "lifecycle", "account"}
_VERIFY_STATUSES = ("ENABLED", "DISABLED", "NOT_INITIATED")
_FILTERABLE = ["username", "email", "id", "name.given", "name.family"]


def _user_not_found(sandbox: Box, env_id: str, user_id: str) -> ApiError:
    if _UUID.match(user_id):
        return not_found(f"User {user_id!r} was not found in environment {env_id!r}.")
    # Not echoed: what was sent instead of an id is often a username or an email.
    hint = (
        "the id in the path is not a user id (user ids are UUIDs). If it is a username, find "
        f'the id with GET /v1/environments/{env_id}/users?filter=username eq "<username>" and '
        "use the returned `id`."
    )
    if any(u["username"] == user_id for u in _users(sandbox, env_id)):
        hint += " A user with that username exists."
    return not_found(f"User not found: {hint}")


def _users(sandbox: Box, env_id: str) -> list[dict[str, Any]]:
    return [u for u in sandbox.store.values("user") if u["environment"]["id"] == env_id]


def get_user(sandbox: Box, env_id: str, user_id: str) -> dict[str, Any]:
    """The stored user, or 404 explaining the id-versus-username mistake."""
    user = sandbox.store.get("user", user_id)
    if user is None or user["environment"]["id"] != env_id:
        raise _user_not_found(sandbox, env_id, user_id)
    return user


def _render(request: Request, user: dict[str, Any]) -> dict[str, Any]:
    env_id = user["environment"]["id"]
    href = f"{env_url(request, env_id)}/users/{user['id']}"
    links = {"self": {"href": href}, "environment": {"href": env_url(request, env_id)}}
    links["verifyTransactions"] = {"href": href + "/verifyTransactions"}
    body = {"_links": links, **user}
    body["createdAt"], body["updatedAt"] = iso(user["createdAt"]), iso(user["updatedAt"])
    return body


def _validate(body: dict[str, Any]) -> dict[str, Any]:
    username = body.get("username")
    if not isinstance(username, str) or not username.strip():
        raise invalid_data("username", "username is required", "REQUIRED_VALUE")
    if len(username) > 128:
        raise invalid_data("username", "username must be at most 128 characters", "OUT_OF_RANGE")
    email = body.get("email")
    if email is not None and (not isinstance(email, str) or not _EMAIL.match(email)):
        raise invalid_data("email", "email must be a valid email address (name@domain.tld)")
    name = body.get("name")
    if name is not None and not isinstance(name, dict):
        raise invalid_data("name", "name must be an object such as {given, family}")
    return {k: v for k, v in body.items() if k not in _READ_ONLY}


async def create_user(sandbox: Box, request: Request) -> Response:
    """POST /users (201); a duplicate username is a uniqueness violation."""
    env_id = request.path_params["envId"]
    fields = _validate(await json_body(request))
    ensure_unique(_users(sandbox, env_id), "username", fields["username"], None)
    now = sandbox.now()
    user = {
        "id": new_id(),
        "environment": {"id": env_id},
        "enabled": True,
        "lifecycle": {"status": "ACCOUNT_OK"},
        "account": {"canAuthenticate": True, "status": "OK"},
        "identityProvider": {"type": "PINGONE"},
        "mfaEnabled": False,
        "verifyStatus": "NOT_INITIATED",
        **fields,
        "createdAt": now,
        "updatedAt": now,
    }
    sandbox.store.put("user", user["id"], user)
    return json_response(_render(request, user), 201)


async def list_users(sandbox: Box, request: Request) -> Response:
    """GET /users, with a SCIM filter on username, email or name, paged."""
    env_id = request.path_params["envId"]
    found = sorted(_users(sandbox, env_id), key=lambda u: u["createdAt"])
    text = request.query_params.get("filter")
    if text:
        predicate = compile_filter(text, _FILTERABLE, {"eq", "ne", "co", "sw", "ew", "pr"})
        found = [u for u in found if predicate(u)]
    return json_response(page(request, "users", found, lambda u: _render(request, u)))


async def read_user(sandbox: Box, request: Request) -> Response:
    """GET /users/{userId}."""
    user = get_user(sandbox, request.path_params["envId"], request.path_params["userId"])
    return json_response(_render(request, user))


async def update_user(sandbox: Box, request: Request) -> Response:
    """PUT (replace) or PATCH (merge) /users/{userId}."""
    env_id = request.path_params["envId"]
    user = get_user(sandbox, env_id, request.path_params["userId"])
    body = await json_body(request)
    if request.method == "PATCH":
        body = {**{k: v for k, v in user.items() if k not in _READ_ONLY}, **body}
    fields = _validate(body)
    ensure_unique(_users(sandbox, env_id), "username", fields["username"], user["id"])
    keep = {k: user[k] for k in ("id", "environment", "lifecycle", "account", "createdAt")}
    updated = {**keep, "verifyStatus": user.get("verifyStatus", "NOT_INITIATED"), **fields}
    updated["updatedAt"] = sandbox.now()
    sandbox.store.put("user", user["id"], updated)
    return json_response(_render(request, updated))


async def delete_user(sandbox: Box, request: Request) -> Response:
    """DELETE /users/{userId} and the user's transactions."""
    user = get_user(sandbox, request.path_params["envId"], request.path_params["userId"])
    sandbox.store.delete("user", user["id"])
    for tx in sandbox.store.values("tx"):
        if tx["userId"] == user["id"]:
            drop_transaction(sandbox, tx)
    return Response(status_code=204)


def _verify_status_body(request: Request, user: dict[str, Any]) -> dict[str, Any]:
    href = f"{env_url(request, user['environment']['id'])}/users/{user['id']}"
    links = {"self": {"href": href + "/verifyStatus"}, "user": {"href": href}}
    return {"_links": links, "verifyStatus": user.get("verifyStatus", "NOT_INITIATED")}


async def read_verify_status(sandbox: Box, request: Request) -> Response:
    """GET /users/{userId}/verifyStatus (deprecated by PingOne)."""
    user = get_user(sandbox, request.path_params["envId"], request.path_params["userId"])
    return json_response(_verify_status_body(request, user))


async def update_verify_status(sandbox: Box, request: Request) -> Response:
    """PUT /users/{userId}/verifyStatus (deprecated by PingOne)."""
    user = get_user(sandbox, request.path_params["envId"], request.path_params["userId"])
    value = (await json_body(request)).get("verifyStatus")
    if value not in _VERIFY_STATUSES:
        allowed = ", ".join(_VERIFY_STATUSES)
        raise invalid_data("verifyStatus", f"verifyStatus must be one of {allowed}; got {value!r}")
    user["verifyStatus"] = value
    user["updatedAt"] = sandbox.now()
    sandbox.store.put("user", user["id"], user)
    return json_response(_verify_status_body(request, user))


async def identity_record_matching(sandbox: Box, request: Request) -> Response:
    """Compare unverified (probe) biographic values with verified (gallery) ones."""
    from .verification import MatchInputError
    from .verification import identity_record_matching as match

    get_user(sandbox, request.path_params["envId"], request.path_params["userId"])
    body = await json_body(request)
    for part in ("probe", "gallery"):
        if not isinstance(body.get(part), dict) or not body[part]:
            raise invalid_data(
                part, f"{part} must be a non-empty object of fields", "REQUIRED_VALUE"
            )
    try:
        result = match(body)
    except MatchInputError as exc:
        # The matcher names the exact field (e.g. probe.nickname), not just the side.
        raise invalid_data(exc.target, str(exc)) from None
    return json_response(result)


ROUTES = [
    ("/users", list_users, ["GET"]),
    ("/users", create_user, ["POST"]),
    ("/users/{userId}", read_user, ["GET"]),
    ("/users/{userId}", update_user, ["PUT", "PATCH"]),
    ("/users/{userId}", delete_user, ["DELETE"]),
    ("/users/{userId}/verifyStatus", read_verify_status, ["GET"]),
    ("/users/{userId}/verifyStatus", update_verify_status, ["PUT"]),
    ("/users/{userId}/identityRecordMatching", identity_record_matching, ["POST"]),
]

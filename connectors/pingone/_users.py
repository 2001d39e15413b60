"""The `pingone` connector: PingOne users (create, read, find, update, delete)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowengine_connectors.pingone._base import client_of, new_connector
from flowengine_connectors.pingone._paging import embedded_items, filter_string

from flowengine import CallContext, Outcome

__all__ = ["connector"]

connector = new_connector(
    "pingone",
    "PingOne",
    "PingOne users: create, read, find by username or email, update and delete.",
    Path(__file__).parent / "schemas",
)

NAME_FIELDS = {"givenName": "given", "familyName": "family", "middleName": "middle"}


def _user_body(inputs: dict[str, Any]) -> dict[str, Any]:
    """A PingOne user resource from the flat inputs (extra `attributes` are merged in)."""
    body: dict[str, Any] = dict(inputs.get("attributes") or {})
    for key in ("username", "email", "mobilePhone", "locale", "nickname", "title"):
        if inputs.get(key) not in (None, ""):
            body[key] = inputs[key]
    name = {api: inputs[k] for k, api in NAME_FIELDS.items() if inputs.get(k) not in (None, "")}
    if name:
        body["name"] = {**body.get("name", {}), **name}
    if inputs.get("populationId"):
        body["population"] = {"id": inputs["populationId"]}
    if "enabled" in inputs:
        body["enabled"] = bool(inputs["enabled"])
    return body


@connector.capability(title="Create User")
async def createUser(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Create a PingOne user (POST /users)."""
    client = client_of(ctx)
    response = await client.post(client.env_path("users"), json=_user_body(inputs))
    return response.output("user")


@connector.capability(title="Read User")
async def readUser(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Read one user by id (GET /users/{userId})."""
    client = client_of(ctx)
    response = await client.get(client.env_path("users", inputs["userId"]))
    return response.output("user")


@connector.capability(title="Find User", outcomes=("success", "not_found", "error"))
async def findUser(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any] | Outcome:
    """Find the user with this username or email (GET /users?filter=...); `not_found` if none."""
    client = client_of(ctx)
    attribute = "username" if inputs.get("username") else "email"
    response = await client.get(
        client.env_path("users"),
        params={"filter": f"{attribute} eq {filter_string(inputs[attribute])}", "limit": 1},
    )
    users = embedded_items(response.body, "users")
    output = response.output()
    output["found"] = bool(users)
    if not users:
        return Outcome("not_found", output)
    output["user"] = users[0]
    return output


@connector.capability(title="Update User")
async def updateUser(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Change some attributes of a user (PATCH /users/{userId}); others are kept."""
    client = client_of(ctx)
    path = client.env_path("users", inputs["userId"])
    body = _user_body(inputs)
    if "name" in body:
        # PATCH replaces top-level attributes whole: keep the name parts not being changed.
        current = await client.get(path)
        body["name"] = {**((current.body or {}).get("name") or {}), **body["name"]}
    # Setting the same values twice gives the same user, so a retry is safe.
    response = await client.request("PATCH", path, json=body, idempotent=True)
    return response.output("user")


@connector.capability(title="Delete User")
async def deleteUser(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Delete a user (DELETE /users/{userId})."""
    client = client_of(ctx)
    response = await client.delete(client.env_path("users", inputs["userId"]))
    return response.output()

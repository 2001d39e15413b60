"""Verify policies: pick one by ID, by name or as the environment's default."""

from __future__ import annotations

from typing import Any

from flowengine_connectors.pingone import (
    PingOneClient,
    PingOneError,
    PingOneResponse,
    client_of,
    collect,
    embedded_items,
    filter_string,
)
from flowengine_connectors.pingone_verify._common import connector

from flowengine import CallContext

__all__ = ["find_policy", "is_use_id", "policy_by_name", "readVerifyPolicy"]

USE_ID = "useverifypolicyid"
"""DaVinci's stored value for the dropdown choice "Use Verify Policy ID"."""


def is_use_id(select: Any) -> bool:
    """True for "useVerifyPolicyId" / "Use Verify Policy ID" (any case or spacing)."""
    return isinstance(select, str) and select.replace(" ", "").replace("_", "").lower() == USE_ID


SELECT_FIELDS = ("verifyPolicySelect", "verifyPolicyIdSelect")
"""Read Verify Policy's dropdown and ID fields (Create Transaction's are verifyPolicy, -Id)."""


async def find_policy(
    client: PingOneClient, select: Any, policy_id: Any, fields: tuple[str, str] = SELECT_FIELDS
) -> PingOneResponse | None:
    """The policy a dropdown + ID pair names; None means "the default policy".

    `fields` names the caller's dropdown and ID inputs, for the message when no policy has
    the name.
    """
    if is_use_id(select) or not select:
        if not policy_id:
            return None
        return await client.get(client.env_path("verifyPolicies", policy_id))
    return await policy_by_name(client, str(select), fields)


async def policy_by_name(
    client: PingOneClient, name: str, fields: tuple[str, str] = SELECT_FIELDS
) -> PingOneResponse:
    """The policy named `name` (compared case-insensitively); a NOT_FOUND PingOneError if none."""
    response = await collect(
        client,
        client.env_path("verifyPolicies"),
        "verifyPolicies",
        params={"filter": f"name eq {filter_string(name)}"},
    )
    # Filter again here: names compare case-insensitively, and a server may ignore `filter`.
    found = [
        p for p in embedded_items(response.body, "verifyPolicies") if _same(p.get("name"), name)
    ]
    if not found:
        raise PingOneError(
            f"verifyPolicy could not be found: no verify policy is named {name!r} in environment "
            f"{client.environment_id}; fix {fields[0]}, or give the policy's ID in {fields[1]} "
            f"with {fields[0]}: useVerifyPolicyId",
            code="NOT_FOUND",
            status_code=404,
            correlation_id=response.headers.get("correlation-id"),
        )
    return PingOneResponse(response.status_code, response.headers, found[0])


async def default_policy(client: PingOneClient) -> PingOneResponse:
    """The environment's default verify policy (the listed one with `default: true`)."""
    # Every page: the default policy may be listed on any of them.
    response = await collect(client, client.env_path("verifyPolicies"), "verifyPolicies")
    found = [p for p in embedded_items(response.body, "verifyPolicies") if p.get("default") is True]
    if not found:
        raise PingOneError(
            f"environment {client.environment_id} has no default verify policy; name one "
            "with verifyPolicySelect",
            code="NOT_FOUND",
            status_code=404,
        )
    return PingOneResponse(response.status_code, response.headers, found[0])


def _same(a: Any, b: str) -> bool:
    return isinstance(a, str) and a.casefold() == b.casefold()


@connector.capability(title="Read Verify Policy")
async def readVerifyPolicy(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Read a verify policy: by ID (useVerifyPolicyId), by name, or the default one."""
    client = client_of(ctx)
    response = await find_policy(
        client, inputs.get("verifyPolicySelect"), inputs.get("verifyPolicyIdSelect")
    )
    if response is None:
        response = await default_policy(client)
    return response.output("verifyPolicy")

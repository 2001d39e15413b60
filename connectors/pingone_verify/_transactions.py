"""Verify transactions: create, read, list; verify status; the external client response."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any
from urllib.parse import quote

from flowengine_connectors.pingone import PingOneClient, client_of, collect
from flowengine_connectors.pingone_verify._common import (
    biographic_fields,
    connector,
    output_with,
    transaction_path,
)
from flowengine_connectors.pingone_verify._policies import is_use_id, policy_by_name

from flowengine import CallContext

__all__ = [
    "createExtClientResponse",
    "createVerifyTransaction",
    "readVerifyTransaction",
    "readVerifyTransactions",
    "setVerifyStatus",
    "transaction_body",
]


def new_challenge() -> str:
    """A random challenge a mobile app can poll with (DaVinci makes one when none is given)."""
    return secrets.token_urlsafe(24)


async def _policy_id(client: PingOneClient, inputs: dict[str, Any]) -> str | None:
    """The verify policy ID the inputs name; None leaves the choice to PingOne (the default)."""
    select, policy_id = inputs.get("verifyPolicy"), inputs.get("verifyPolicyId")
    if not select or is_use_id(select):
        return str(policy_id) if policy_id else None
    # A policy name: look its ID up.
    found = await policy_by_name(client, str(select), ("verifyPolicy", "verifyPolicyId"))
    return str(found.body["id"])


def transaction_body(inputs: dict[str, Any], policy_id: str | None) -> dict[str, Any]:
    """The create-transaction request body for these inputs (API reference §4.1)."""
    body: dict[str, Any] = {}
    if policy_id:
        body["verifyPolicy"] = {"id": policy_id}
    notify = {
        k: inputs[f]
        for k, f in (("phone", "notifyPhone"), ("email", "notifyEmail"))
        if inputs.get(f)
    }
    if notify:
        body["sendNotification"] = notify
    requirements: dict[str, Any] = {
        key: {"value": value} for key, value in biographic_fields(inputs.get("biographic")).items()
    }
    phones = [p for p in inputs.get("verifyPhone") or [] if p]
    if phones:
        # The API documents requirements.phone as {value}; several numbers become options.
        requirements["phone"] = {"value": phones[0]} if len(phones) == 1 else {"options": phones}
    emails = [e for e in inputs.get("verifyEmail") or [] if e]
    if emails:
        requirements["email"] = {"options": emails}
    if inputs.get("referenceImage"):
        requirements["referenceSelfie"] = {"value": inputs["referenceImage"]}
    if requirements:
        body["requirements"] = requirements
    redirect_url = inputs.get("redirectUri") or inputs.get("redirectUrl")
    if redirect_url:
        body["redirect"] = {"url": redirect_url}
        if inputs.get("redirectMessage"):
            body["redirect"]["message"] = inputs["redirectMessage"]
    return body


@connector.capability(title="Create Transaction")
async def createVerifyTransaction(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Create a verify transaction for a user; the output carries its QR and web URLs."""
    client = client_of(ctx)
    body = transaction_body(inputs, await _policy_id(client, inputs))
    response = await client.post(
        client.env_path("users", inputs["userId"], "verifyTransactions"), json=body
    )
    output = response.output("transaction")
    output["challenge"] = inputs.get("challenge") or new_challenge()
    return output


@connector.capability(title="Read Transaction")
async def readVerifyTransaction(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Read one verify transaction, with its status."""
    client = client_of(ctx)
    response = await client.get(transaction_path(client, inputs))
    return response.output("transaction")


@connector.capability(title="Read Transactions")
async def readVerifyTransactions(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """List a user's verify transactions, the latest first, at most `limit` of them."""
    client = client_of(ctx)
    limit = inputs.get("limit")
    # Pages are followed until `limit` transactions were read (all of them without a limit).
    response = await collect(
        client,
        client.env_path("users", inputs["userId"], "verifyTransactions"),
        "verifyTransactions",
        params={"limit": limit},
        limit=None if limit is None else int(limit),
    )
    output = output_with(response, "transactions", "verifyTransactions")
    return output if limit is None else _latest(output, int(limit))


def _latest(output: dict[str, Any], limit: int) -> dict[str, Any]:
    items = output["transactions"]["_embedded"]["verifyTransactions"]
    items = sorted(items, key=lambda t: str(t.get("createdAt", "")), reverse=True)[:limit]
    output["transactions"]["_embedded"]["verifyTransactions"] = items
    output["transactions"]["size"] = len(items)
    return output


@connector.capability(title="Set Verify Status")
async def setVerifyStatus(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Set the user's verifyStatus (ENABLED, DISABLED, NOT_INITIATED); deprecated by PingOne."""
    client = client_of(ctx)
    response = await client.put(
        client.env_path("users", inputs["userId"], "verifyStatus"),
        json={"verifyStatus": inputs["verifyStatus"]},
    )
    return response.output("verifyStatus")


@connector.capability(title="Create Response for External Client")
def createExtClientResponse(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """What a mobile app needs to run the verification itself: no API call."""
    challenge = inputs["challengeId"]
    state = {
        "runId": ctx.run_id,
        "nodeId": ctx.node_id,
        "challenge": challenge,
        "webVerificationUrl": inputs["webVerificationUrl"],
    }
    encoded = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
    output: dict[str, Any] = {
        "clientState": base64.urlsafe_b64encode(encoded).decode().rstrip("="),
        "webVerificationUrl": inputs["webVerificationUrl"],
        "challenge": challenge,
    }
    if not inputs.get("isLastClientStep", False):
        output["continueLink"] = (
            f"/runs/{quote(ctx.run_id, safe='')}/continue?challenge={quote(challenge, safe='')}"
        )
    return output

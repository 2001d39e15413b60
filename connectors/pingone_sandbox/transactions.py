"""Verify transactions: create, list, read (expand=verifyPolicy), manual approval, delete."""

from __future__ import annotations

import secrets
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, invalid_data, not_found
from .http import base_url, collection, env_url, json_body, json_response, page, query
from .machine import decode_value, drop_transaction, timestamps, transaction_status
from .outbox import record_notifications
from .policies import get_policy, policy_body, timeout_seconds
from .state import iso, new_id
from .users import get_user

if TYPE_CHECKING:
    from .box import Box

__all__ = ["ROUTES", "get_transaction", "policy_of", "render_transaction", "tx_href", "web_urls"]

BIOGRAPHIC = ("given_name", "family_name", "name", "address", "birth_date")
REQUIREMENTS = (*BIOGRAPHIC, "email", "phone", "referenceSelfie")
WEB_PATH = "/v1/idValidations/webVerifications"
_MANUAL = {
    "APPROVED_MANUALLY": {"FAIL", "IN_PROGRESS", "PARTIAL"},
    "APPROVED_NO_REQUEST": {"REQUESTED", "INITIATED", "FAIL"},
}


def get_transaction(sandbox: Box, request: Request) -> dict[str, Any]:
    """The transaction named by the path (env, user, tx), or 404."""
    env_id = request.path_params["envId"]
    user = get_user(sandbox, env_id, request.path_params["userId"])
    tx_id = request.path_params["txId"]
    tx = sandbox.store.get("tx", tx_id)
    if tx is None or tx["userId"] != user["id"]:
        raise not_found(f"Verify transaction {tx_id!r} was not found for user {user['id']!r}.")
    return tx


def policy_of(sandbox: Box, tx: dict[str, Any]) -> dict[str, Any]:
    """The transaction's policy (the environment default if it was deleted since)."""
    policy = sandbox.store.get("policy", tx["policyId"])
    return policy if policy is not None else get_policy(sandbox, tx["env"], None)


def web_urls(base: str, tx: dict[str, Any]) -> dict[str, str]:
    """qrUrl and webVerificationUrl on the host the client called."""
    api = base + WEB_PATH
    web = (
        f"{base}/verify-webapp/index.html?txnid={tx['id']}"
        f"&url={quote(api, safe='')}&code={tx['code']}"
    )
    return {"qrUrl": f"{api}/{tx['id']}/qr", "webVerificationUrl": web}


def tx_href(request: Request, tx: dict[str, Any]) -> str:
    """The transaction's URL: `<env>/users/<userId>/verifyTransactions/<txId>`."""
    return f"{env_url(request, tx['env'])}/users/{tx['userId']}/verifyTransactions/{tx['id']}"


def render_transaction(
    sandbox: Box, request: Request, tx: dict[str, Any], expand: bool = False
) -> dict[str, Any]:
    """The transaction resource as PingOne returns it."""
    policy = policy_of(sandbox, tx)
    env = env_url(request, tx["env"])
    links = {
        "self": {"href": tx_href(request, tx)},
        "environment": {"href": env},
        "user": {"href": f"{env}/users/{tx['userId']}"},
        "verifyPolicy": {"href": f"{env}/verifyPolicies/{policy['id']}"},
    }
    body: dict[str, Any] = {
        "_links": links,
        "id": tx["id"],
        "environment": {"id": tx["env"]},
        "user": {"id": tx["userId"]},
        "verifyPolicy": policy_body(policy) if expand else {"id": policy["id"]},
        "transactionStatus": transaction_status(sandbox, tx, policy),
        **web_urls(base_url(request), tx),
        "webVerificationCode": tx["code"],
    }
    for key in ("requirements", "sendNotification", "redirect", "callback"):
        if tx.get(key):
            body[key] = tx[key]
    body.update(timestamps(tx))
    return body


# --- create ---------------------------------------------------------------------------------


def _check_requirement(key: str, value: Any) -> None:
    target = f"requirements.{key}"
    if not isinstance(value, dict):
        raise invalid_data(target, f"{target} must be an object with `value` or `options`")
    if "value" in value and not isinstance(value["value"], str):
        raise invalid_data(f"{target}.value", "value must be a string")
    options = value.get("options")
    if options is not None and (
        not isinstance(options, list) or not options or not all(isinstance(o, str) for o in options)
    ):
        raise invalid_data(f"{target}.options", "options must be a non-empty list of strings")
    if "value" not in value and options is None:
        raise invalid_data(target, f"{target} needs `value` or `options`", "REQUIRED_VALUE")


def _requirements(raw: Any, policy: dict[str, Any]) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise invalid_data("requirements", "requirements must be an object")
    for key, value in raw.items():
        if key not in REQUIREMENTS:
            raise invalid_data(
                f"requirements.{key}", f"unknown requirement; known: {list(REQUIREMENTS)}"
            )
        _check_requirement(key, value)
    if "referenceSelfie" in raw:
        decode_value(
            "Selfie", raw["referenceSelfie"].get("value"), "requirements.referenceSelfie.value"
        )
    face = (policy.get("facialComparison") or {}).get("verify")
    gov = (policy.get("governmentId") or {}).get("verify")
    if face == "REQUIRED" and gov == "DISABLED" and "referenceSelfie" not in raw:
        raise invalid_data(
            "requirements.referenceSelfie",
            "a referenceSelfie is required: the policy requires facial comparison without a "
            "government ID",
            "REQUIRED_VALUE",
        )
    return raw


def _with_url(raw: Any, name: str) -> dict[str, Any] | None:
    """An optional `{url, ...}` object (`redirect`, `callback`); 400 when it has no url."""
    if raw is not None and (not isinstance(raw, dict) or not isinstance(raw.get("url"), str)):
        raise invalid_data(f"{name}.url", f"{name}.url is required", "REQUIRED_VALUE")
    return raw


def _redirect(raw: Any) -> dict[str, Any] | None:
    """The redirect after collection: an https URL and a message of at most 256 characters."""
    raw = _with_url(raw, "redirect")
    if raw is None:
        return None
    if not raw["url"].lower().startswith("https://"):
        raise invalid_data("redirect.url", "redirect.url must be an https:// URL")
    message = raw.get("message")
    if message is not None and (not isinstance(message, str) or len(message) > 256):
        raise invalid_data(
            "redirect.message",
            "redirect.message must be at most 256 characters",
            "SIZE_LIMIT_EXCEEDED",
        )
    return raw


def _strings(raw: Any, name: str, keys: tuple[str, ...]) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid_data(name, f"{name} must be an object")
    for key, value in raw.items():
        if key not in keys or not isinstance(value, str):
            raise invalid_data(f"{name}.{key}", f"{name} takes string fields {list(keys)}")
    return raw


def _max_attempts(policy: dict[str, Any]) -> int:
    retries = [
        ((policy.get(section) or {}).get("retry") or {}).get("attempts", 0) or 0
        for section in ("governmentId", "liveness")
    ]
    return 1 + max(retries)


async def create_transaction(sandbox: Box, request: Request) -> Response:
    """POST .../verifyTransactions (201): requirements checked, expiry set."""
    env_id = request.path_params["envId"]
    user = get_user(sandbox, env_id, request.path_params["userId"])
    body = await json_body(request)
    policy_ref = body.get("verifyPolicy")
    if policy_ref is not None and not isinstance(policy_ref, dict):
        raise invalid_data(
            "verifyPolicy", "verifyPolicy must be an object {id}; omit it for the default"
        )
    policy_id = policy_ref.get("id") if policy_ref else None
    try:
        policy = get_policy(sandbox, env_id, policy_id)
    except ApiError:
        raise invalid_data("verifyPolicy.id", "verifyPolicy could not be found") from None
    now = sandbox.now()
    tx = {
        "id": new_id(),
        "env": env_id,
        "userId": user["id"],
        "policyId": policy["id"],
        "requirements": _requirements(body.get("requirements"), policy),
        "sendNotification": _strings(
            body.get("sendNotification"), "sendNotification", ("email", "phone")
        ),
        "redirect": _redirect(body.get("redirect")),
        "callback": _with_url(body.get("callback"), "callback"),
        "code": f"{secrets.randbelow(1_000_000):06d}",
        "createdAt": now,
        "updatedAt": now,
        # validate_policy and seed_default always fill transaction.timeout (DEFAULTS: 30 min).
        "expiresAt": now + timeout_seconds(policy["transaction"]["timeout"]),
        "initiatedAt": None,
        "attempt": 1,
        "maxAttempts": _max_attempts(policy),
        "attempts": [],
        "documents": [],
        "clients": [],
        "events": [{"id": new_id(), "type": "TRANSACTION_CREATED", "at": now, "data": {}}],
        "final": None,
        "manual": None,
    }
    sandbox.store.put("tx", tx["id"], tx)
    body = render_transaction(sandbox, request, tx)
    record_notifications(sandbox, tx, body["webVerificationUrl"])
    return json_response(body, 201)


async def list_transactions(sandbox: Box, request: Request) -> Response:
    """GET .../verifyTransactions: the latest first, paged by `limit`."""
    env_id = request.path_params["envId"]
    user = get_user(sandbox, env_id, request.path_params["userId"])
    found = [t for t in sandbox.store.values("tx") if t["userId"] == user["id"]]
    found.sort(key=lambda t: t["createdAt"], reverse=True)
    body = page(request, "verifyTransactions", found, partial(render_transaction, sandbox, request))
    return json_response(body)


async def read_transaction(sandbox: Box, request: Request) -> Response:
    """GET .../verifyTransactions/{txId}, `expand=verifyPolicy` allowed."""
    tx = get_transaction(sandbox, request)
    expand = query(request, "expand")
    if expand is not None and expand != "verifyPolicy":
        raise invalid_data("expand", "expand must be verifyPolicy", "INVALID_PARAMETER")
    return json_response(render_transaction(sandbox, request, tx, expand=expand is not None))


async def update_transaction(sandbox: Box, request: Request) -> Response:
    """PUT .../verifyTransactions/{txId}: manual approval."""
    tx = get_transaction(sandbox, request)
    body = await json_body(request)
    wanted = (body.get("transactionStatus") or {}).get("status")
    if wanted not in _MANUAL:
        raise invalid_data(
            "transactionStatus.status", f"status must be one of {sorted(_MANUAL)}; got {wanted!r}"
        )
    current = transaction_status(sandbox, tx, policy_of(sandbox, tx))["status"]
    if current not in _MANUAL[wanted]:
        raise invalid_data(
            "transactionStatus.status",
            f"{wanted} can be set only when the status is one of {sorted(_MANUAL[wanted])}; "
            f"it is {current}",
        )
    tx["manual"] = wanted
    tx["updatedAt"] = sandbox.now()
    sandbox.store.put("tx", tx["id"], tx)
    return json_response(render_transaction(sandbox, request, tx))


async def delete_transaction(sandbox: Box, request: Request) -> Response:
    """DELETE .../verifyTransactions/{txId} and its documents."""
    drop_transaction(sandbox, get_transaction(sandbox, request))
    return Response(status_code=204)


async def list_events(sandbox: Box, request: Request) -> Response:
    """GET .../verifyTransactions/{txId}/appEvents: what happened, in order."""
    tx = get_transaction(sandbox, request)
    href = str(request.url)
    items = [
        {"id": e["id"], "type": e["type"], "data": e["data"], "createdAt": iso(e["at"])}
        for e in tx.get("events", [])
    ]
    return json_response(collection(href, "appEvents", items))


ROUTES = [
    ("/users/{userId}/verifyTransactions", list_transactions, ["GET"]),
    ("/users/{userId}/verifyTransactions", create_transaction, ["POST"]),
    ("/users/{userId}/verifyTransactions/{txId}", read_transaction, ["GET"]),
    ("/users/{userId}/verifyTransactions/{txId}", update_transaction, ["PUT"]),
    ("/users/{userId}/verifyTransactions/{txId}", delete_transaction, ["DELETE"]),
    ("/users/{userId}/verifyTransactions/{txId}/appEvents", list_events, ["GET"]),
]

"""Verify policies: the seeded default, CRUD, list with a SCIM filter on `name`, range checks."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .errors import ApiError, check_range, ensure_unique, invalid_data, not_found
from .http import env_url, json_body, json_response, page
from .scim import compile_filter
from .state import iso, new_id

if TYPE_CHECKING:
    from .box import Box

__all__ = [
    "ROUTES",
    "default_policy",
    "get_policy",
    "policy_body",
    "seed_default",
    "timeout_seconds",
]

VERIFY = ("REQUIRED", "OPTIONAL", "DISABLED")
THRESHOLDS = ("LOW", "MEDIUM", "HIGH")
UNITS = ("SECONDS", "MINUTES")
IRM_FIELDS = ("address", "birth_date", "family_name", "given_name", "name")


def _otp(lifetime_minutes: int) -> dict[str, Any]:
    return {
        "attempts": {"count": 5},
        "deliveries": {"count": 3, "cooldown": {"duration": 30, "timeUnit": "SECONDS"}},
        "lifeTime": {"duration": lifetime_minutes, "timeUnit": "MINUTES"},
        "notification": {"templateName": "email_phone_verification"},
    }


DEFAULTS: dict[str, Any] = {
    "governmentId": {
        "verify": "REQUIRED",
        "inspectionType": "AUTOMATIC",
        "provider": {"auto": "MITEK", "manual": "MITEK"},
        "retry": {"attempts": 0},
        "failExpiredId": True,
        "verifyAamva": False,
    },
    "facialComparison": {"verify": "REQUIRED", "threshold": "MEDIUM"},
    "liveness": {"verify": "REQUIRED", "threshold": "MEDIUM", "retry": {"attempts": 0}},
    "email": {"verify": "DISABLED", "createMfaDevice": False, "otp": _otp(10)},
    "phone": {"verify": "DISABLED", "createMfaDevice": False, "otp": _otp(5)},
    "transaction": {
        "timeout": {"duration": 30, "timeUnit": "MINUTES"},
        "dataCollection": {"timeout": {"duration": 15, "timeUnit": "MINUTES"}},
        "dataCollectionOnly": False,
    },
    "identityRecordMatching": {
        "given_name": {"threshold": "MEDIUM", "fieldRequired": True},
        "family_name": {"threshold": "HIGH", "fieldRequired": True},
        "birth_date": {"threshold": "HIGH", "fieldRequired": True},
        "name": {"threshold": "MEDIUM", "fieldRequired": False},
        "address": {"threshold": "MEDIUM", "fieldRequired": False},
    },
}
_SECTIONS = set(DEFAULTS) | {"voice"}
_TOP = _SECTIONS | {"name", "description", "default"}
_READ_ONLY = {"id", "_links", "environment", "createdAt", "updatedAt"}


def default_policy() -> dict[str, Any]:
    """The settings of a seeded default policy (a deep copy)."""
    return copy.deepcopy(DEFAULTS)


def seed_default(sandbox: Box, env_id: str) -> dict[str, Any]:
    """Create an environment's default policy."""
    now = sandbox.now()
    policy = {
        "id": new_id(),
        "environment": {"id": env_id},
        "name": "Default Verify Policy",
        "description": "Government ID, facial comparison and liveness required (sandbox default)",
        "default": True,
        **default_policy(),
        "createdAt": now,
        "updatedAt": now,
    }
    return sandbox.store.put("policy", policy["id"], policy)


def _policies(sandbox: Box, env_id: str) -> list[dict[str, Any]]:
    found = [p for p in sandbox.store.values("policy") if p["environment"]["id"] == env_id]
    return sorted(found, key=lambda p: p["createdAt"])


def get_policy(sandbox: Box, env_id: str, policy_id: str | None) -> dict[str, Any]:
    """A policy by id, or the environment's default when `policy_id` is None."""
    if policy_id is None:
        for policy in _policies(sandbox, env_id):
            if policy.get("default"):
                return policy
        return seed_default(sandbox, env_id)
    found = sandbox.store.get("policy", policy_id)
    if found is None or found["environment"]["id"] != env_id:
        raise not_found("verifyPolicy could not be found")
    return found


def timeout_seconds(value: dict[str, Any]) -> int:
    """`{duration, timeUnit}` in seconds."""
    return int(value["duration"]) * (60 if value["timeUnit"] == "MINUTES" else 1)


def policy_body(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy as PingOne returns it, without `_links` (also a transaction's expansion)."""
    body = dict(policy)
    body["createdAt"], body["updatedAt"] = iso(policy["createdAt"]), iso(policy["updatedAt"])
    return body


def _render(request: Request, policy: dict[str, Any]) -> dict[str, Any]:
    env_id = policy["environment"]["id"]
    href = f"{env_url(request, env_id)}/verifyPolicies/{policy['id']}"
    links = {"self": {"href": href}, "environment": {"href": env_url(request, env_id)}}
    return {"_links": links, **policy_body(policy)}


# --- validation ---------------------------------------------------------------------------


def _enum(section: dict[str, Any], key: str, allowed: tuple[str, ...], target: str) -> None:
    if key in section and section[key] not in allowed:
        raise invalid_data(f"{target}.{key}", f"must be one of {', '.join(allowed)}")


def _duration(value: Any, target: str, minutes: tuple[int, int], seconds: tuple[int, int]) -> None:
    if not isinstance(value, dict) or value.get("timeUnit") not in UNITS:
        raise invalid_data(f"{target}.timeUnit", "timeUnit must be SECONDS or MINUTES")
    low, high = minutes if value["timeUnit"] == "MINUTES" else seconds
    check_range(value.get("duration"), low, high, f"{target}.duration")


def _check_verify(section: dict[str, Any], name: str, threshold: bool) -> None:
    if "verify" not in section:
        raise invalid_data(f"{name}.verify", "verify is required", "REQUIRED_VALUE")
    _enum(section, "verify", VERIFY, name)
    if threshold:
        if "threshold" not in section:
            raise invalid_data(f"{name}.threshold", "threshold is required", "REQUIRED_VALUE")
        _enum(section, "threshold", THRESHOLDS, name)
    if "retry" in section:
        check_range((section["retry"] or {}).get("attempts"), 0, 3, f"{name}.retry.attempts")


def _check_otp(section: dict[str, Any], name: str) -> None:
    otp = section.get("otp") or {}
    if "attempts" in otp:
        check_range(otp["attempts"].get("count"), 1, 10, f"{name}.otp.attempts.count")
    deliveries = otp.get("deliveries") or {}
    if "count" in deliveries:
        check_range(deliveries["count"], 1, 10, f"{name}.otp.deliveries.count")
    if "cooldown" in deliveries:
        _duration(deliveries["cooldown"], f"{name}.otp.deliveries.cooldown", (0, 30), (0, 1800))
    if "lifeTime" in otp:
        _duration(otp["lifeTime"], f"{name}.otp.lifeTime", (1, 30), (60, 1800))


def _check_transaction(section: dict[str, Any]) -> None:
    if "timeout" in section:
        _duration(section["timeout"], "transaction.timeout", (0, 30), (0, 1800))
    collect = (section.get("dataCollection") or {}).get("timeout")
    if collect is not None:
        _duration(collect, "transaction.dataCollection.timeout", (0, 30), (0, 1800))
        total = section.get("timeout") or DEFAULTS["transaction"]["timeout"]
        if timeout_seconds(collect) > timeout_seconds(total):
            raise invalid_data(
                "transaction.dataCollection.timeout",
                "the data collection timeout must not exceed transaction.timeout",
                "OUT_OF_RANGE",
            )


def _check_irm(section: dict[str, Any]) -> None:
    for key, value in section.items():
        if key not in IRM_FIELDS:
            raise invalid_data(f"identityRecordMatching.{key}", f"fields are {list(IRM_FIELDS)}")
        if not isinstance(value, dict):
            raise invalid_data(
                f"identityRecordMatching.{key}", "must be {threshold, fieldRequired}"
            )
        _enum(value, "threshold", THRESHOLDS, f"identityRecordMatching.{key}")


def validate_policy(body: dict[str, Any]) -> dict[str, Any]:
    """The policy's settings with defaults filled in; 400 INVALID_DATA naming the bad field."""
    fields = {k: v for k, v in body.items() if k not in _READ_ONLY}
    for key in fields:
        if key not in _TOP:
            raise invalid_data(key, f"unknown property; known: {sorted(_TOP)}")
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid_data("name", "name is required", "REQUIRED_VALUE")
    description = fields.get("description")
    if description is not None and (not isinstance(description, str) or not description):
        raise invalid_data("description", "description must be 1 to 1024 characters")
    if isinstance(description, str) and len(description) > 1024:
        raise invalid_data(
            "description", "description must be 1 to 1024 characters", "OUT_OF_RANGE"
        )
    for key in _SECTIONS:
        if key in fields and not isinstance(fields[key], dict):
            raise invalid_data(key, f"{key} must be an object")
    _check_sections(fields)
    merged: dict[str, Any] = {"name": name, "default": bool(fields.get("default", False))}
    if description is not None:
        merged["description"] = description
    for key, default in DEFAULTS.items():
        merged[key] = _merge(default, fields.get(key), key)
    if "voice" in fields:
        merged["voice"] = fields["voice"]
    return merged


def _check_sections(fields: dict[str, Any]) -> None:
    gov = fields.get("governmentId")
    if gov is not None:
        _check_verify(gov, "governmentId", threshold=False)
        _enum(gov, "inspectionType", ("AUTOMATIC", "MANUAL", "STEP_UP"), "governmentId")
        provider = gov.get("provider") or {}
        _enum(provider, "auto", ("MITEK", "VERIFF"), "governmentId.provider")
        _enum(provider, "manual", ("MITEK",), "governmentId.provider")
    for key in ("facialComparison", "liveness"):
        if fields.get(key) is not None:
            _check_verify(fields[key], key, threshold=True)
    for key in ("email", "phone"):
        if fields.get(key) is not None:
            _check_verify(fields[key], key, threshold=False)
            _check_otp(fields[key], key)
    if fields.get("transaction") is not None:
        _check_transaction(fields["transaction"])
    if fields.get("identityRecordMatching") is not None:
        _check_irm(fields["identityRecordMatching"])


def _merge(default: dict[str, Any], given: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """A section as given, with defaults for what it omits; absent check sections are DISABLED."""
    if given is None:
        section = copy.deepcopy(default)
        if key in ("governmentId", "facialComparison", "liveness"):
            section["verify"] = "DISABLED"
        return section
    merged = copy.deepcopy(default)
    for name, value in given.items():
        if isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = _merge(merged[name], value, name)
        else:
            merged[name] = value
    return merged


# --- routes --------------------------------------------------------------------------------


def _make_default(sandbox: Box, env_id: str, policy_id: str) -> None:
    for other in _policies(sandbox, env_id):
        if other["id"] != policy_id and other.get("default"):
            other["default"] = False
            sandbox.store.put("policy", other["id"], other)


async def create_policy(sandbox: Box, request: Request) -> Response:
    """POST /verifyPolicies (201); `default: true` takes over the default."""
    env_id = request.path_params["envId"]
    fields = validate_policy(await json_body(request))
    ensure_unique(_policies(sandbox, env_id), "name", fields["name"], None)
    now = sandbox.now()
    policy = {"id": new_id(), "environment": {"id": env_id}, **fields}
    policy.update(createdAt=now, updatedAt=now)
    sandbox.store.put("policy", policy["id"], policy)
    if policy["default"]:
        _make_default(sandbox, env_id, policy["id"])
    return json_response(_render(request, policy), 201)


async def list_policies(sandbox: Box, request: Request) -> Response:
    """GET /verifyPolicies, with a SCIM filter on `name`, paged."""
    env_id = request.path_params["envId"]
    found = _policies(sandbox, env_id)
    text = request.query_params.get("filter")
    if text:
        predicate = compile_filter(text, ["name"], {"eq", "ne", "co", "sw", "ew", "pr"})
        found = [p for p in found if predicate(p)]
    return json_response(page(request, "verifyPolicies", found, lambda p: _render(request, p)))


async def read_policy(sandbox: Box, request: Request) -> Response:
    """GET /verifyPolicies/{policyId}."""
    env_id = request.path_params["envId"]
    return json_response(
        _render(request, get_policy(sandbox, env_id, request.path_params["policyId"]))
    )


async def update_policy(sandbox: Box, request: Request) -> Response:
    """PUT /verifyPolicies/{policyId}: replace the policy's settings."""
    env_id = request.path_params["envId"]
    policy = get_policy(sandbox, env_id, request.path_params["policyId"])
    fields = validate_policy(await json_body(request))
    ensure_unique(_policies(sandbox, env_id), "name", fields["name"], policy["id"])
    if policy.get("default") and not fields["default"]:
        raise invalid_data(
            "default", "make another policy the default instead of unsetting this one"
        )
    keep = {k: policy[k] for k in ("id", "environment", "createdAt")}
    updated = {**keep, **fields, "updatedAt": sandbox.now()}
    sandbox.store.put("policy", policy["id"], updated)
    if updated["default"]:
        _make_default(sandbox, env_id, policy["id"])
    return json_response(_render(request, updated))


async def delete_policy(sandbox: Box, request: Request) -> Response:
    """DELETE /verifyPolicies/{policyId}; the default policy cannot be deleted."""
    env_id = request.path_params["envId"]
    policy = get_policy(sandbox, env_id, request.path_params["policyId"])
    if policy.get("default"):
        raise ApiError(
            400,
            "INVALID_DATA",
            "The default verify policy cannot be deleted; make another policy the default first.",
            [{"code": "CONSTRAINT_VIOLATION", "target": "default", "message": "policy is default"}],
        )
    sandbox.store.delete("policy", policy["id"])
    return Response(status_code=204)


ROUTES = [
    ("/verifyPolicies", list_policies, ["GET"]),
    ("/verifyPolicies", create_policy, ["POST"]),
    ("/verifyPolicies/{policyId}", read_policy, ["GET"]),
    ("/verifyPolicies/{policyId}", update_policy, ["PUT"]),
    ("/verifyPolicies/{policyId}", delete_policy, ["DELETE"]),
]

"""Helpers shared by the PingOne Verify capabilities: paths, input normalising, list filters."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from flowengine_connectors.pingone import (
    PingOneClient,
    PingOneResponse,
    embedded_items,
    new_connector,
)

from flowengine import ConnectorError

__all__ = [
    "BIOGRAPHIC_FIELDS",
    "biographic_fields",
    "connector",
    "output_with",
    "transaction_path",
]

connector = new_connector(
    "pingone_verify",
    "PingOne Verify",
    "Verify a user's identity with a government ID, a selfie and other data (PingOne Verify).",
    Path(__file__).parent / "schemas",
)

BIOGRAPHIC_FIELDS = ("given_name", "family_name", "name", "address", "birth_date")
_BIOGRAPHIC_ALIASES = {
    "givenname": "given_name",
    "firstname": "given_name",
    "familyname": "family_name",
    "lastname": "family_name",
    "fullname": "name",
    "birthdate": "birth_date",
    "dateofbirth": "birth_date",
    "dob": "birth_date",
}


def transaction_path(client: PingOneClient, inputs: dict[str, Any], *more: Any) -> str:
    """/environments/<env>/users/<userId>/verifyTransactions/<transactionId>/<more...>"""
    return client.env_path(
        "users", inputs["userId"], "verifyTransactions", inputs["transactionId"], *more
    )


def biographic_key(name: str) -> str | None:
    """The API field for a biographic item name ("Given Name", "given_name", "birthdate"...)."""
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    if key in BIOGRAPHIC_FIELDS:
        return key
    return _BIOGRAPHIC_ALIASES.get(key.replace("_", ""))


def biographic_fields(items: Any, field: str = "biographic") -> dict[str, str]:
    """`[{name, value}, ...]` as DaVinci stores them -> {api field: value}; empties skipped."""
    fields: dict[str, str] = {}
    for index, item in enumerate(items or []):
        if not isinstance(item, dict):
            # The type, never the item: a bare value here is someone's name or birth date.
            kind = type(item).__name__
            raise _bad_input(f"{field}[{index}] must be an object {{name, value}}, not a {kind}")
        key = biographic_key(str(item.get("name", "")))
        if key is None:
            raise _bad_input(
                f"{field}[{index}].name {item.get('name')!r} is not a biographic field; use one of "
                f"{', '.join(BIOGRAPHIC_FIELDS)}"
            )
        value = item.get("value")
        if value not in (None, ""):
            fields[key] = str(value)
    return fields


def _bad_input(message: str) -> ConnectorError:
    return ConnectorError(message, code="INVALID_INPUT")


def output_with(response: PingOneResponse, key: str, name: str, keep: Any = None) -> dict[str, Any]:
    """The output of a list call; `<key>` keeps the items `keep(item)` accepts.

    `rawResponse` stays what PingOne answered; the filter covers query parameters PingOne
    may not honour (see docs/assumptions.md).
    """
    out = response.output()
    body = response.body if isinstance(response.body, dict) else {"_embedded": {name: []}}
    filtered = copy.copy(body)
    items = [i for i in embedded_items(body, name) if keep is None or keep(i)]
    filtered["_embedded"] = {**(body.get("_embedded") or {}), name: items}
    if keep is not None:
        filtered["size"] = len(items)
    out[key] = filtered
    return out

"""Typed secrets: values a schema or a form marks secret become run secrets, never stored.

A form field of type `password`, and any field (of a form, or of a capability's input or
output schema) marked `writeOnly: true` or `x-secret: true`, holds a secret. The engine
registers each such value in `run.secrets` as soon as it sees it (the response that answers
a form; a rendered input; a capability's output), so it is replaced by "[REDACTED]" in trace
events, node errors, the stored run and everything printed from it, exactly like a
connection's secret settings. The value itself stays in memory for the nodes that run in the
same pass; what the store keeps is "[REDACTED]".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["form_secrets", "marked_secret", "schema_secret_paths", "secret_values"]

_MAX_SCHEMA_DEPTH = 32


def marked_secret(schema: Mapping[str, Any]) -> bool:
    """Whether a (sub)schema or form field is marked secret: `writeOnly` / `x-secret` true."""
    return schema.get("writeOnly") is True or schema.get("x-secret") is True


def schema_secret_paths(schema: Any) -> tuple[tuple[str, ...], ...]:
    """Paths (keys, `*` for any item) to the values a JSON Schema marks secret."""
    found: list[tuple[str, ...]] = []

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if not isinstance(node, Mapping) or len(path) > _MAX_SCHEMA_DEPTH:
            return
        if marked_secret(node):
            found.append(path)
            return
        for name, sub in (node.get("properties") or {}).items():
            walk(sub, (*path, str(name)))
        items = node.get("items")
        if isinstance(items, Mapping):
            walk(items, (*path, "*"))
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(key) or ():
                walk(sub, path)

    walk(schema, ())
    return tuple(dict.fromkeys(found))


def secret_values(value: Any, paths: tuple[tuple[str, ...], ...]) -> list[str]:
    """The non-empty strings found at `paths` inside `value`."""
    found: list[str] = []
    for path in paths:
        _collect(value, path, found)
    return found


def _collect(value: Any, path: tuple[str, ...], found: list[str]) -> None:
    if not path:
        if isinstance(value, str):
            if value:
                found.append(value)
        elif isinstance(value, list | tuple | Mapping):  # a secret object: all its strings
            for item in value.values() if isinstance(value, Mapping) else value:
                _collect(item, (), found)
        return
    head, rest = path[0], path[1:]
    if isinstance(value, Mapping):
        if head in value:
            _collect(value[head], rest, found)
    elif isinstance(value, list | tuple) and head == "*":
        for item in value:
            _collect(item, rest, found)


def form_secrets(interaction: Mapping[str, Any] | None, response: Any) -> list[str]:
    """The values a response gives a form's secret fields (type password, writeOnly, x-secret)."""
    if not isinstance(interaction, Mapping) or not isinstance(response, Mapping):
        return []
    data = interaction.get("data")
    fields = data.get("fields") if isinstance(data, Mapping) else None
    found: list[str] = []
    for field in fields if isinstance(fields, list) else ():
        if not isinstance(field, Mapping):
            continue
        if field.get("type") == "password" or marked_secret(field):
            value = response.get(str(field.get("name")))
            if isinstance(value, str) and value:
                found.append(value)
    return found

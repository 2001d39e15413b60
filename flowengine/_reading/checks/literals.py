"""Schema errors explained at the offending key, and literal values checked against schemas.

Node inputs and connection settings may hold templates (`{{ ... }}`, `${VAR}`) whose values
are known only at run time; what is already written must still fit the schema.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from flowengine._errors import did_you_mean
from flowengine._plugins.schema import CompiledSchema
from flowengine._reading.diagnostic import Diagnostic
from flowengine._reading.marked_yaml import Path, YamlDocument

__all__ = ["check_literal", "explain", "extra_keys", "json_path_of"]

# Keywords whose verdict depends only on the shape of a container, never on the values
# inside it, so a template inside the container cannot change them.
_SHAPE_KEYWORDS = frozenset(
    {
        "type",
        "required",
        "additionalProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "minItems",
        "maxItems",
        "dependentRequired",
    }
)


def _has_template(value: Any, marker: str) -> bool:
    """Whether a template marker appears anywhere inside `value`."""
    if isinstance(value, str):
        return marker in value
    if isinstance(value, dict):
        return any(_has_template(v, marker) for v in value.values())
    if isinstance(value, list):
        return any(_has_template(v, marker) for v in value)
    return False


def _is_literal_error(error: jsonschema.ValidationError, marker: str) -> bool:
    """Whether a schema error is about written values, not about a template."""
    instance = error.instance
    if isinstance(instance, str) and marker in instance:
        return False  # a template: its value is known only when the run renders it
    return error.validator in _SHAPE_KEYWORDS or not _has_template(instance, marker)


def check_literal(
    doc: YamlDocument,
    path: Path,
    value: Mapping[str, Any],
    schema: CompiledSchema,
    node_id: str | None,
    *,
    marker: str = "{{",
    what: str = "input",
    secrets: Collection[str] = (),
) -> Iterator[Diagnostic]:
    """Report what is already written in `value` that breaks `schema` (FE070, FE071)."""
    if schema.is_valid(value):
        return
    code = "FE070" if marker == "{{" else "FE071"
    owner = f" of node {node_id!r}" if node_id else ""
    for error in schema.errors(value):
        if not _is_literal_error(error, marker):
            continue
        for where, message, at_value in explain(error):
            if where and where[0] in secrets:  # never echo a secret setting's value
                message = f"the value breaks the schema's {error.validator!r} rule"
            json_path = json_path_of(where)
            yield doc.diagnostic(
                code,
                f"{what} {json_path}{owner} is invalid: {message} ({schema.name})",
                (*path, *where),
                at_value=at_value,
                node_id=node_id,
                json_path=json_path,
            )


def explain(error: jsonschema.ValidationError) -> list[tuple[Path, str, bool]]:
    """(path, message, whether to point at the value) for each problem in one error."""
    path = tuple(error.absolute_path)
    extra = extra_keys(error)
    if extra:
        allowed = error.schema.get("properties", {})
        return [((*path, k), _unknown_key(k, allowed), False) for k in extra]
    if "propertyNames" in error.relative_schema_path:
        key = str(error.instance)
        return [((*path, key), f"invalid name {key!r}: {error.message}", False)]
    if error.validator in ("oneOf", "anyOf") and error.context:
        description = error.schema.get("description") if isinstance(error.schema, dict) else None
        if description:
            return [(path, f"{error.instance!r} is not valid; expected {description}", True)]
        return explain(best_match(error.context))
    message = error.message
    if error.validator == "enum" and isinstance(error.instance, str):
        message += did_you_mean(error.instance, [str(v) for v in error.validator_value])
    return [(path, message, error.validator != "required")]


def _unknown_key(key: str, allowed: Collection[str]) -> str:
    """The message for a key the schema does not allow, with the flow format's usual slips."""
    message = f"unknown key {key!r}{did_you_mean(key, allowed)}"
    if key == "use" and "parallel" in allowed:
        return f"{message}: a node calls a capability (`use:`) or is a parallel block, not both"
    if key in ("on", "next") and "use" in allowed and not {"on", "next"} & set(allowed):
        return f"{message}: a branch has no routes; the block's `on:` / `next:` apply once all end"
    if key == "parallel" and "use" in allowed and "parallel" not in allowed:
        return f"{message}: parallel blocks do not nest; make the inner block a top-level node"
    return message


def json_path_of(path: Iterable[str | int]) -> str:
    """A file path as a JSON path: ('with', 'a b', 0) -> $.with['a b'][0]."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += f"[{part!r}]"
    return out


def extra_keys(error: jsonschema.ValidationError) -> list[str]:
    """The keys an `additionalProperties: false` error is about (else [])."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return []
    if error.validator_value is not False or not isinstance(error.schema, dict):
        return []
    allowed = error.schema.get("properties", {})
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    return [
        k for k in error.instance if k not in allowed and not any(p.search(k) for p in patterns)
    ]

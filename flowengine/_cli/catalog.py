"""Describing the registered connectors for `flowengine connectors`."""

from __future__ import annotations

import json
from typing import Any

from flowengine._errors import did_you_mean
from flowengine._plugins.registry import LoadedCapability, Registry

__all__ = ["describe"]


def _outcomes(loaded: LoadedCapability) -> list[str]:
    """A capability's outcomes, error and dynamic ones included."""
    cap = loaded.capability
    outcomes = [*cap.outcomes, *(["error"] if "error" not in cap.outcomes else [])]
    if cap.outcome_fields:
        outcomes.append(f"<values of {', '.join(cap.outcome_fields)}>")
    return outcomes


def _capability_dict(loaded: LoadedCapability, *, schemas: bool) -> dict[str, Any]:
    """A capability described as JSON, with its schemas if asked."""
    cap = loaded.capability
    data: dict[str, Any] = {
        "name": cap.name,
        "title": cap.title,
        "description": cap.description,
        "outcomes": _outcomes(loaded),
        "interactive": cap.interactive,
        "plugin": loaded.plugin,
    }
    if schemas:
        data["input_schema"] = loaded.input.schema
        data["output_schema"] = loaded.output.schema
    return data


def _capabilities(registry: Registry, connector: str) -> list[LoadedCapability]:
    """A connector's capabilities, sorted by name."""
    return [c for (name, _), c in sorted(registry.capabilities.items()) if name == connector]


def _one(registry: Registry, connector: str, capability: str) -> LoadedCapability:
    """One capability, or a LookupError listing the connector's capabilities."""
    try:
        return registry.capability(connector, capability)
    except KeyError:
        names = [c.capability.name for c in _capabilities(registry, connector)]
        raise LookupError(
            f"connector {connector!r} has no capability {capability!r}"
            f"{did_you_mean(capability, names)} (it has: {', '.join(names)})"
        ) from None


def _check_connector(registry: Registry, name: str) -> None:
    """Raise LookupError (with did-you-mean) for an unknown connector."""
    if name not in registry.connectors:
        names = sorted(registry.connectors)
        raise LookupError(
            f"no connector named {name!r}{did_you_mean(name, names)} (installed: "
            f"{', '.join(names)})"
        )


def describe(registry: Registry, name: str | None, capability: str | None, *, as_json: bool) -> str:
    """Text (or JSON) for all connectors, one connector, or one capability with schemas."""
    if name is None:
        return _all(registry, as_json)
    _check_connector(registry, name)
    if capability is None:
        caps = [_capability_dict(c, schemas=False) for c in _capabilities(registry, name)]
        if as_json:
            return json.dumps({"connector": name, "capabilities": caps}, indent=2)
        lines = [f"{name}: {registry.connectors[name].title}"]
        for c in caps:
            lines.append(f"  {c['name']:<32} outcomes: {', '.join(c['outcomes'])}")
            if c["description"]:
                lines.append(f"      {c['description'].splitlines()[0]}")
        return "\n".join(lines)
    data = _capability_dict(_one(registry, name, capability), schemas=True)
    if as_json:
        return json.dumps(data, indent=2)
    return _capability_text(name, capability, data)


def _capability_text(name: str, capability: str, data: dict[str, Any]) -> str:
    """One capability for people: its outcomes and a field table per schema."""
    lines = [f"{name}.{capability}: {data['title']}"]
    if data["description"]:
        lines.append(data["description"])
    lines.append(f"outcomes: {', '.join(data['outcomes'])}")
    for label, key in (("input", "input_schema"), ("output", "output_schema")):
        lines += ["", f"{label}:", *_table(_fields(data[key]))]
    lines += ["", f"full JSON Schemas: flowengine connectors {name} {capability} --json"]
    return "\n".join(lines)


_HEADER = ("field", "type", "required", "choices / default", "description")
_DESCRIPTION_WIDTH = 72
_CHOICES_WIDTH = 60
_MAX_DEPTH = 2  # deeper objects show as one row: --json has the rest


def _fields(schema: Any, prefix: str = "", depth: int = 1) -> list[tuple[str, ...]]:
    """Rows (name, type, required, choices/default, description) for an object schema."""
    if not isinstance(schema, dict):
        return []
    required = set(schema.get("required") or ())
    rows: list[tuple[str, ...]] = []
    for key, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        name = f"{prefix}{key}"
        rows.append(
            (name, _type(prop), "yes" if key in required else "", _choices(prop), _about(prop))
        )
        if depth < _MAX_DEPTH:
            items = prop.get("items")
            if isinstance(items, dict) and items.get("properties"):
                rows += _fields(items, f"{name}[].", depth + 1)
            elif prop.get("properties"):
                rows += _fields(prop, f"{name}.", depth + 1)
    return rows


def _type(prop: dict[str, Any]) -> str:
    """A property's type in words: 'string (email)', 'array of string', 'string | null'."""
    kind = prop.get("type")
    if kind is None:
        alternatives = prop.get("anyOf") or prop.get("oneOf")
        if isinstance(alternatives, list):
            kinds = [_type(a) for a in alternatives if isinstance(a, dict)]
            return " | ".join(dict.fromkeys(k for k in kinds if k)) or "any"
        return "any" if "enum" not in prop and "const" not in prop else "value"
    text = " | ".join(kind) if isinstance(kind, list) else str(kind)
    items = prop.get("items")
    if kind == "array" and isinstance(items, dict) and _type(items) != "any":
        text = f"array of {_type(items)}"
    if prop.get("format"):
        text += f" ({prop['format']})"
    return text


def _choices(prop: dict[str, Any]) -> str:
    """A property's allowed values and its default."""
    parts = []
    if isinstance(prop.get("enum"), list):
        parts.append(" | ".join(str(v) for v in prop["enum"]))
    if "const" in prop:
        parts.append(f"= {prop['const']}")
    if "default" in prop:
        parts.append(f"default {json.dumps(prop['default'])}")
    return _cut("; ".join(parts), _CHOICES_WIDTH)


def _about(prop: dict[str, Any]) -> str:
    """A property's description (or title), on one line and cut to fit."""
    return _cut(" ".join(str(prop.get("description") or prop.get("title") or "").split()))


def _cut(text: str, width: int = _DESCRIPTION_WIDTH) -> str:
    """`text` cut to `width` characters, ending '...' when cut."""
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows as aligned columns under a header, or a line saying there are none."""
    if not rows:
        return ["  (no fields declared; --json shows the schema)"]
    widths = [max(len(r[i]) for r in (_HEADER, *rows)) for i in range(len(_HEADER) - 1)]
    return [
        "  " + "  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]]).rstrip()
        for r in (_HEADER, *rows)
    ]


def _all(registry: Registry, as_json: bool) -> str:
    """Every connector: name, title and capability count."""
    rows = [
        {
            "name": c.name,
            "title": c.title,
            "capabilities": [x.capability.name for x in _capabilities(registry, c.name)],
        }
        for c in sorted(registry.connectors.values(), key=lambda c: c.name)
    ]
    if as_json:
        return json.dumps(rows, indent=2)
    return "\n".join(
        f"{r['name']:<16} {r['title']}  ({len(r['capabilities'])} capabilities)" for r in rows
    )

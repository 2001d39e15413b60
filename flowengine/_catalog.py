"""Describing the registered connectors for `flowengine connectors`."""

from __future__ import annotations

import json
from typing import Any

from flowengine._literal import did_you_mean
from flowengine.plugins import LoadedCapability, Registry

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
    return "\n".join(
        [
            f"{name}.{capability}: {data['title']}",
            data["description"],
            f"outcomes: {', '.join(data['outcomes'])}",
            "input schema:",
            json.dumps(data["input_schema"], indent=2),
            "output schema:",
            json.dumps(data["output_schema"], indent=2),
        ]
    )


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

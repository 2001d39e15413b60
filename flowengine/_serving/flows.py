"""The flows a server serves: files and folders, each flow loaded and checked at start."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from flowengine._errors import FlowEngineError
from flowengine._plugins.registry import Registry
from flowengine._reading.diagnostic import Diagnostic
from flowengine._reading.loader import check_flow
from flowengine._reading.spec import FlowSpec

__all__ = ["FlowsRefused", "discover", "load_served_flows"]

_SUFFIXES = (".yaml", ".yml")
_PEEK_BYTES = 4 * 1024 * 1024


class FlowsRefused(FlowEngineError):
    """A served flow does not validate (or two share an id): the server does not start."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = ()) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)


def _looks_like_flow(path: Path) -> bool:
    """A YAML file in a folder is a flow when its top level has `flow:` and `nodes:`.

    Answers and inputs files in the same folders (flows/<flow>/*.yaml) are skipped.
    """
    try:
        if path.stat().st_size > _PEEK_BYTES:
            return True  # too big to peek at: let the loader say what it is
        data = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=yaml.CSafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and "flow" in data and "nodes" in data


def discover(paths: Sequence[str]) -> list[Path]:
    """The flow files named, and those found (recursively, sorted) in the folders named."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*") if p.suffix in _SUFFIXES)
            found.extend(p for p in candidates if p.is_file() and _looks_like_flow(p))
        elif path.is_file():
            found.append(path)
        else:
            raise FlowsRefused(f"{raw}: no such file or folder")
    return found


def load_served_flows(paths: Sequence[str], registry: Registry) -> dict[str, FlowSpec]:
    """Flow id -> its checked FlowSpec; FlowsRefused with every diagnostic otherwise."""
    files = discover(paths)
    if not files:
        raise FlowsRefused(f"no flow files in {', '.join(paths)}")
    flows: dict[str, FlowSpec] = {}
    problems: list[Diagnostic] = []
    bad: list[str] = []
    for file in files:
        spec, diagnostics = check_flow(str(file), registry)
        errors = [d for d in diagnostics if d.severity == "error"]
        if spec is None or errors:
            problems.extend(errors)
            bad.append(str(file))
            continue
        if spec.id in flows:
            raise FlowsRefused(
                f"flow id {spec.id!r} is in both {flows[spec.id].file} and {file}; "
                "serve one of them"
            )
        flows[spec.id] = spec
    if bad:
        raise FlowsRefused(f"not serving: {', '.join(bad)} do not validate", problems)
    return flows


def describe(flow: FlowSpec) -> dict[str, Any]:
    """What the plain API lists of a served flow."""
    return {"id": flow.id, "title": flow.title, "inputs": dict(flow.inputs_schema or {})}

"""Trace events: one per node visit, redacted before anyone sees them.

An event is a plain dict: {"run", "node", "parent", "visit", "start", "end", "duration_ms",
"outcome", "input", "output", "error"}. Secrets (values read from `${VAR}` and the values of
a connector's `secret_settings`) are always replaced by "[REDACTED]" wherever they occur
inside strings; personal data paths declared by a capability (`Capability.personal_data`,
dotted, `*` for any key or item) are replaced unless the engine is told to keep them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["REDACTED", "JsonlTraceSink", "make_event", "redact", "redact_event"]

REDACTED = "[REDACTED]"


@lru_cache(maxsize=1024)
def _segments(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def redact(value: Any, secrets: Iterable[str] = (), personal_paths: Iterable[str] = ()) -> Any:
    """A copy of `value` with secrets and the personal data paths replaced by "[REDACTED]".

    Parts that need no change are shared with `value`, never modified.
    """
    for path in personal_paths:
        value = _redact_path(value, _segments(path))
    secret_list = sorted((s for s in secrets if s), key=len, reverse=True)
    if secret_list:
        value = _redact_secrets(value, secret_list)
    return value


def _redact_secrets(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:  # longest first, so a secret containing another goes whole
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {k: _redact_secrets(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_secrets(v, secrets) for v in value]
    return value


def _redact_path(value: Any, segments: tuple[str, ...]) -> Any:
    if not segments:
        return REDACTED
    head, rest = segments[0], segments[1:]
    if isinstance(value, Mapping):
        keys = list(value) if head == "*" else [head] if head in value else []
        if not keys:
            return value
        out = dict(value)
        for key in keys:
            out[key] = _redact_path(value[key], rest)
        return out
    if isinstance(value, list | tuple):
        if head == "*":
            return [_redact_path(v, rest) for v in value]
        if head.isdigit() and int(head) < len(value):
            out_list = list(value)
            out_list[int(head)] = _redact_path(value[int(head)], rest)
            return out_list
    return value


def make_event(
    run_id: str,
    node: str,
    parent: str | None,
    visit: int,
    start: float,
    end: float,
    outcome: str | None,
    input: Any,
    output: Any,
    error: Any,
) -> dict[str, Any]:
    """One node visit as a trace event (not yet redacted)."""
    return {
        "run": run_id,
        "node": node,
        "parent": parent,
        "visit": visit,
        "start": start,
        "end": end,
        "duration_ms": (end - start) * 1000.0,
        "outcome": outcome,
        "input": input,
        "output": output,
        "error": error,
    }


def redact_event(
    event: dict[str, Any], secrets: Iterable[str], personal_paths: Iterable[str]
) -> dict[str, Any]:
    """The event with its input, output and error redacted (a new dict when anything changed)."""
    secrets = tuple(secrets)
    personal_paths = tuple(personal_paths)
    if not secrets and not personal_paths:
        return event
    out = dict(event)
    out["input"] = redact(event["input"], secrets, personal_paths)
    out["output"] = redact(event["output"], secrets, personal_paths)
    out["error"] = redact(event["error"], secrets)
    return out


class JsonlTraceSink:
    """A trace sink that appends each event to a file as one JSON line."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, ensure_ascii=False, default=str)
        # Opened per event so no file handle outlives a run, even when the run is abandoned.
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    def __repr__(self) -> str:
        return f"JsonlTraceSink({str(self.path)!r})"

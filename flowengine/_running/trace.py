"""Trace events: one per node visit, redacted (flowengine._redaction) before anyone sees them.

An event is a plain dict: {"run", "node", "parent", "visit", "start", "end", "duration_ms",
"outcome", "input", "output", "error"}. Secrets are always replaced by "[REDACTED]"; personal
data paths unless the engine is told to keep them: in a waiting event, whose output is the
interaction, also inside the interaction's `data`; in a parallel block's event, inside
each branch's output by that branch's paths.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["JsonlTraceSink", "make_event"]


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
    """One node visit as a trace event (not yet redacted); Execution._emit builds the same."""
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

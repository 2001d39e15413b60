"""Diagnostic: one problem found in a flow file, at its file, line and column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowengine._reading.spec import Location

__all__ = ["Diagnostic"]


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a flow file."""

    location: Location
    code: str
    message: str
    severity: str = "error"
    node_id: str | None = None
    json_path: str | None = None

    def __str__(self) -> str:
        label = "warning: " if self.severity == "warning" else ""
        return f"{self.location}: {self.code} {label}{self.message}"

    @property
    def is_error(self) -> bool:
        """Whether this stops the flow from loading (warnings do not)."""
        return self.severity == "error"

    def to_dict(self) -> dict[str, Any]:
        """The diagnostic as JSON for `flowengine validate --json`."""
        return {
            "file": self.location.file,
            "line": self.location.line,
            "col": self.location.col,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "node_id": self.node_id,
            "json_path": self.json_path,
        }

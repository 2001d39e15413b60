"""JSON Schemas: where they live, and validators compiled once per schema.

The hot path asks jsonschema-rs (about 100x faster) whether a value is valid, and only
when it is not asks jsonschema for errors a person can read, with their JSON paths.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema.exceptions import best_match

from flowengine.errors import SchemaValidationError

__all__ = ["CompiledSchema", "load_schema", "schema_dir"]


@cache
def schema_dir() -> Path:
    """The schemas/ folder: inside the installed wheel, or at the top of a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "schemas", here.parent / "schemas"):
        if (candidate / "flow.schema.json").is_file():
            return candidate
    raise FileNotFoundError(
        f"flowengine's schemas/ folder was not found next to {here}; reinstall the package"
    )


def load_schema(relative: str, base: Path | None = None) -> dict[str, Any]:
    """Read one schema file, e.g. `functions/compare.input.json`."""
    path = (base or schema_dir()) / relative
    with path.open(encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


def _json_path(error: jsonschema.ValidationError) -> str:
    """The error's place as a JSON path ($.a[0])."""
    return str(error.json_path)


class CompiledSchema:
    """A schema checked and compiled once; `validate(value)` raises SchemaValidationError."""

    __slots__ = ("_fast", "_slow", "name", "schema")

    def __init__(self, schema: dict[str, Any], name: str = "schema") -> None:
        # The meta-schema check by jsonschema costs ~30 ms per schema (seconds for a
        # connector's worth); jsonschema-rs checks in microseconds, and jsonschema is
        # asked only to explain a schema that failed.
        if not jsonschema_rs.meta.is_valid(schema):
            jsonschema.Draft202012Validator.check_schema(schema)
        self.schema = schema
        self.name = name
        self._fast = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
        self._slow: jsonschema.Draft202012Validator | None = None

    def is_valid(self, value: Any) -> bool:
        """Whether the value matches (jsonschema-rs, fast)."""
        return bool(self._fast.is_valid(value))

    def errors(self, value: Any) -> list[jsonschema.ValidationError]:
        """Every error, from jsonschema (the reference implementation)."""
        if self._slow is None:
            self._slow = jsonschema.Draft202012Validator(
                self.schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
            )
        return sorted(self._slow.iter_errors(value), key=lambda e: list(e.path))

    def validate(self, value: Any, **context: Any) -> None:
        """Raise SchemaValidationError with the best error's JSON path unless the value matches."""
        if self._fast.is_valid(value):
            return
        errors = self.errors(value)
        if not errors:  # the two implementations disagree; trust the reference one
            return
        best = best_match(errors)
        path = _json_path(best)
        where = context.get("where") or self.name
        raise SchemaValidationError(
            f"{where} invalid at {path}: {best.message}",
            json_path=path,
            errors=errors,
            node_id=context.get("node_id"),
            capability=context.get("capability"),
            direction=context.get("direction"),
        )

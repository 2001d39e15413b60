"""JSON Schemas: where they live, and validators compiled once per schema.

The hot path asks jsonschema-rs (about 100x faster) whether a value is valid, and only
when it is not asks jsonschema for errors a person can read, with their JSON paths.
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
from jsonschema.exceptions import best_match

from flowengine._errors import SchemaProblem, SchemaValidationError

__all__ = ["CompiledSchema", "load_schema", "problem_of", "schema_dir", "schema_problem"]


@cache
def schema_dir() -> Path:
    """The schemas/ folder: inside the installed wheel, or at the top of a checkout."""
    here = Path(__file__).resolve().parent.parent  # flowengine/, from flowengine/_plugins/
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


# Schema errors name what was expected and what kind of value was found, never the
# value: node inputs and outputs carry personal data, settings carry secrets, and these
# messages go to the trace, the stored run and the terminal.


def _kind(value: Any) -> str:
    """What a value is, without the value: 'a string of 3 characters', 'an object'."""
    if isinstance(value, str):
        return f"a string of {len(value)} character{'s' if len(value) != 1 else ''}"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"an array of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"a {type(value).__name__}"


def _short(value: Any, limit: int = 120) -> str:
    """A schema keyword's value for a message, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _suggestion(value: Any, choices: Any) -> str:
    """'; did you mean 'EU'?' for a string close to one of `choices` (itself never shown)."""
    if not isinstance(value, str) or not isinstance(choices, list):
        return ""
    names = [c for c in choices if isinstance(c, str)]
    same = [c for c in names if c.casefold() == value.casefold()]
    close = same or difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def schema_problem(error: jsonschema.ValidationError) -> str:
    """One jsonschema error in words: the constraint and the kind of value, not the value."""
    keyword, expected, found = error.validator, error.validator_value, error.instance
    kind = _kind(found)
    if keyword == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {wanted}, found {kind}"
    if keyword == "enum":
        return f"{kind} is not one of {_short(expected)}{_suggestion(found, expected)}"
    if keyword == "const":
        return f"{kind} is not {_short(expected)}{_suggestion(found, [expected])}"
    if keyword == "required" and isinstance(found, dict):
        missing = [name for name in expected if name not in found]
        return (
            f"required {'property' if len(missing) == 1 else 'properties'} "
            + ", ".join(repr(m) for m in missing)
            + " missing"
        )
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        return error.message  # names the unexpected keys, not their values
    if keyword in ("anyOf", "oneOf") and isinstance(expected, list):
        return _alternatives(error, kind, len(expected))
    if keyword == "format":
        return f"{kind} is not a valid {expected!r}"
    if keyword == "pattern":
        return f"{kind} does not match the pattern {_short(expected)}"
    return f"{kind} does not satisfy {keyword}: {_short(expected)}"


_JSON_TYPES = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (dict, "object"),
    (list, "array"),
    (type(None), "null"),
)


def _json_type(value: Any) -> str:
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), "unknown")


def problem_of(error: jsonschema.ValidationError) -> SchemaProblem:
    """A jsonschema error as value-free data: an exception must never hold a secret."""
    return SchemaProblem(
        json_path=str(error.json_path),
        path=tuple(error.absolute_path),
        validator=str(error.validator),
        schema_path=tuple(error.absolute_schema_path),
        message=schema_problem(error),
        expected=error.validator_value,
        found=_json_type(error.instance),
        context=tuple(problem_of(sub) for sub in error.context or ()),
    )


def _alternatives(error: jsonschema.ValidationError, kind: str, count: int) -> str:
    """An anyOf / oneOf failure: the types it allows when those are what failed."""
    wanted: list[str] = []
    for sub in error.context or ():
        if sub.validator == "type" and not sub.relative_path:
            value = sub.validator_value
            wanted.extend(
                v for v in (value if isinstance(value, list) else [value]) if v not in wanted
            )
    if wanted and len(wanted) >= count:  # every alternative failed on its type
        return f"expected {' or '.join(wanted)}, found {kind}"
    many = " (or several)" if error.validator == "oneOf" else ""
    return f"{kind} matches none{many} of the {count} schemas {error.validator} allows"


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
        """Raise SchemaValidationError (a JSON path, never the value) unless the value matches."""
        if self._fast.is_valid(value):
            return
        errors = self.errors(value)
        if not errors:  # the two implementations disagree; trust the reference one
            return
        best = best_match(errors)
        path = str(best.json_path)
        where = context.get("where") or self.name
        raise SchemaValidationError(
            f"{where} invalid at {path}: {schema_problem(best)}",
            json_path=path,
            errors=[problem_of(e) for e in errors],
            node_id=context.get("node_id"),
            capability=context.get("capability"),
            direction=context.get("direction"),
        )

"""Form fields for `ui.form`: normalising their declarations and validating a response."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flowengine_connectors.functions import bool_word

from flowengine import ConnectorError

__all__ = ["COLLECTORS", "normalise_fields", "validate_response"]

# The DaVinci client collector each field type maps onto (davinci-client-protocol.md §4.2).
COLLECTORS = {
    "text": "TEXT",
    "textarea": "TEXT",
    "email": "TEXT",
    "date": "TEXT",
    "number": "TEXT",
    "password": "PASSWORD",
    "select": "DROPDOWN",
    "multiselect": "MULTI_SELECT",
    "checkbox": "SINGLE_CHECKBOX",
}
_WITH_OPTIONS = frozenset({"select", "multiselect"})

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
NUMBER_PATTERN = r"^-?\d+(\.\d+)?$"
_TYPE_PATTERNS = {"email": EMAIL_PATTERN, "date": DATE_PATTERN, "number": NUMBER_PATTERN}
# Kept exactly as typed: a password's spaces are part of it, and a licence barcode's text
# (AAMVA) starts with "@\n\x1e\r" and ends with "\n\r", which stripping would cut.
_AS_TYPED = frozenset({"password", "textarea"})


def _label(name: str) -> str:
    """A label made from a field name: given_name -> Given name."""
    return name.replace("_", " ").capitalize()


def _options(raw: list[Any]) -> list[dict[str, str]]:
    """Select options as {label, value}; a bare value is both."""
    return [o if isinstance(o, dict) else {"label": str(o), "value": str(o)} for o in raw]


def normalise_field(raw: str | dict[str, Any]) -> dict[str, Any]:
    """One field declaration in full form; a bare string is a required text field."""
    spec: dict[str, Any] = {"name": raw} if isinstance(raw, str) else dict(raw)
    kind = spec.get("type", "text")
    field: dict[str, Any] = {
        "name": spec["name"],
        "label": spec.get("label") or _label(spec["name"]),
        "type": kind,
        "required": spec.get("required", True),
        "collector": COLLECTORS[kind],
    }
    pattern = spec.get("pattern") or _TYPE_PATTERNS.get(kind)
    if pattern:
        field["pattern"] = pattern
    if spec.get("error_message"):
        field["error_message"] = spec["error_message"]
    if kind in _WITH_OPTIONS:
        field["options"] = _options(spec.get("options", []))
    return field


def normalise_fields(raw: list[Any]) -> list[dict[str, Any]]:
    """Every field declaration in full form, in order; a name used twice is an error."""
    fields = [normalise_field(f) for f in raw]
    seen: set[str] = set()
    for field in fields:
        if field["name"] in seen:
            # The response is keyed by field name: two fields would share one value.
            raise ConnectorError(
                f"form field {field['name']!r} is declared twice; give each field its own name",
                code="INVALID_FORM",
            )
        seen.add(field["name"])
    return fields


def _check(field: dict[str, Any], value: Any) -> str | None:
    """The error message for one field's value, or None when it is valid."""
    if field["type"] == "multiselect":
        return _check_choices(field, value)
    if field["type"] == "checkbox":
        return _check_box(field, value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return f"{field['label']} is required" if field["required"] else None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return f"{field['label']} must be a single value"
    text = str(value)
    pattern = field.get("pattern")
    if pattern and not re.fullmatch(pattern, text):
        return field.get("error_message") or _pattern_message(field)
    if field["type"] == "date":
        try:
            date.fromisoformat(text)
        except ValueError:
            return f"{field['label']} is not a real date (YYYY-MM-DD)"
    if field["type"] == "select" and text not in {o["value"] for o in field["options"]}:
        allowed = ", ".join(o["value"] for o in field["options"])
        return f"{field['label']} must be one of: {allowed}"
    return None


def _check_choices(field: dict[str, Any], value: Any) -> str | None:
    """A multiselect's value: a list of its options' values (none, if not required)."""
    if value is None or value == []:
        return f"{field['label']} needs at least one choice" if field["required"] else None
    allowed = [o["value"] for o in field["options"]]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return f"{field['label']} must be a list of choices among: {', '.join(allowed)}"
    unknown = [v for v in value if v not in allowed]
    if unknown:
        return f"{field['label']} has {len(unknown)} choice(s) not among: {', '.join(allowed)}"
    return None


def _as_bool(value: Any) -> bool | None:
    """A checkbox's value as a boolean (true/false, or the words forms send), or None."""
    if isinstance(value, bool):
        return value
    return bool_word(value) if isinstance(value, str) else None


def _check_box(field: dict[str, Any], value: Any) -> str | None:
    """A checkbox's value: true or false; a required one must be ticked (terms accepted)."""
    ticked = False if value is None else _as_bool(value)
    if ticked is None:
        return f"{field['label']} must be true or false"
    if field["required"] and not ticked:
        return f"{field['label']} must be ticked"
    return None


def _pattern_message(field: dict[str, Any]) -> str:
    """The message for a value that does not match its field's pattern."""
    messages = {
        "email": "is not an email address",
        "date": "must be a date written YYYY-MM-DD",
        "number": "must be a number",
    }
    return f"{field['label']} {messages.get(field['type'], 'has the wrong format')}"


def _coerce(field: dict[str, Any], value: Any) -> Any:
    """A valid value typed: numbers as numbers, passwords and textareas as given, text stripped."""
    if field["type"] == "checkbox":
        return bool(value is not None and _as_bool(value))
    if field["type"] == "multiselect":
        return list(value or [])
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if field["type"] == "number":
        number = float(value)
        return int(number) if number.is_integer() else number
    return value if field["type"] in _AS_TYPED else str(value).strip()


def validate_response(
    fields: list[dict[str, Any]], response: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The submitted values (typed) and the per-field errors (empty when valid)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        raw = response.get(field["name"])
        problem = _check(field, raw)
        if problem:
            errors[field["name"]] = problem
        else:
            values[field["name"]] = _coerce(field, raw)
    return values, errors

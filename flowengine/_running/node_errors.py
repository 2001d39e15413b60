"""Node errors: whatever a visit raised, as the `nodes.<id>.error` dict flows read.

One shape for every error (`ConnectorError.to_dict`: code, message, details, status_code,
correlation_id); a schema failure adds its JSON path and value-free details, a template
failure its expression and field.
"""

from __future__ import annotations

from typing import Any

from flowengine._errors import ConnectorError, SchemaValidationError, TemplateError

__all__ = ["error_dict", "exception_error"]


def _schema_error(e: SchemaValidationError, code: str) -> dict[str, Any]:
    details = [{"json_path": err.json_path, "message": err.message} for err in e.errors[:10]]
    return {
        "code": code,
        "message": str(e),
        "json_path": e.json_path,
        "details": details,
        "status_code": None,
        "correlation_id": None,
    }


def error_dict(code: str, message: str) -> dict[str, Any]:
    """A node error in the one shape flows read (`ConnectorError.to_dict`)."""
    return ConnectorError(message, code=code).to_dict()


def exception_error(e: BaseException) -> dict[str, Any]:
    if isinstance(e, ConnectorError):
        return e.to_dict()
    if isinstance(e, SchemaValidationError):
        return _schema_error(e, "INPUT_INVALID" if e.direction == "input" else "OUTPUT_INVALID")
    if isinstance(e, TemplateError):
        err = error_dict("TEMPLATE_ERROR", str(e))
        err.update(expression=e.expression, field=e.field)
        return err
    return error_dict("UNEXPECTED_ERROR", f"{type(e).__name__}: {e}")

"""Node errors: whatever a visit raised, as the `nodes.<id>.error` dict flows read.

One shape for every error (`ConnectorError.to_dict`: code, message, details, status_code,
correlation_id); a schema failure adds its JSON path and value-free details, a template
failure its expression and field.
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any

from flowengine._errors import ConnectorError, SchemaValidationError, TemplateError

__all__ = ["error_dict", "exception_error", "plugin_frame"]


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


def plugin_frame(tb: TracebackType | None, plugin_dir: str) -> dict[str, Any] | None:
    """`{file, line, function}` of the innermost frame inside `plugin_dir` (else the innermost
    frame outside the engine), or None without a traceback."""
    inside = outside = None
    engine_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    while tb is not None:
        code = tb.tb_frame.f_code
        file = os.path.abspath(code.co_filename)
        frame = {"file": file, "line": tb.tb_lineno, "function": code.co_name}
        if plugin_dir and file.startswith(plugin_dir + os.sep):
            inside = frame
        elif not file.startswith(engine_dir + os.sep):
            outside = frame
        tb = tb.tb_next
    return inside or outside


def exception_error(e: BaseException, plugin_dir: str = "") -> dict[str, Any]:
    """The node error for what a visit raised; an unexpected exception says where it was
    raised (`where`: the plugin's file, line and function) and its type (`exception`)."""
    if isinstance(e, ConnectorError):
        return e.to_dict()
    if isinstance(e, SchemaValidationError):
        return _schema_error(e, "INPUT_INVALID" if e.direction == "input" else "OUTPUT_INVALID")
    if isinstance(e, TemplateError):
        err = error_dict("TEMPLATE_ERROR", str(e))
        err.update(expression=e.expression, field=e.field)
        return err
    err = error_dict("UNEXPECTED_ERROR", f"{type(e).__name__}: {e}")
    err["exception"] = type(e).__name__
    err["where"] = plugin_frame(e.__traceback__, plugin_dir)
    return err

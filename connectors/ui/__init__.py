"""The `ui` connector: forms, QR codes, messages, and the responses that end a run.

`form`, `qr` and `message` return an Interaction: the run waits for a response and the
capability is called again with it (`ctx.response`). `success` and `error` end the run
with a JSON result, like DaVinci's createSuccessResponse / createErrorResponse.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flowengine_connectors.functions import templated

from flowengine import CallContext, Connector, ConnectorError, Interaction, Outcome, hookimpl

from ._form import normalise_fields, validate_response

__all__ = ["connector", "form_output_schema", "qr_data_url"]

connector = Connector(
    name="ui",
    schema_dir=Path(__file__).parent / "schemas",
    title="User interface",
    description="Screens a person answers (form, QR code, message) and the run's final response.",
)


def _buttons(inputs: dict[str, Any]) -> list[dict[str, str]]:
    """One SUBMIT_BUTTON (outcome success) and a FLOW_BUTTON per declared other outcome."""
    submit = {"outcome": "success", "label": inputs.get("submit_label", "Continue")}
    buttons = [{**submit, "type": "SUBMIT_BUTTON"}]
    for label, outcome in (inputs.get("buttons") or {}).items():
        buttons.append({"outcome": outcome, "label": label, "type": "FLOW_BUTTON"})
    return buttons


def _form_data(inputs: dict[str, Any], fields: list[dict[str, Any]]) -> dict[str, Any]:
    """The form interaction's data: fields, buttons, values and errors."""
    return {
        "title": inputs.get("title", ""),
        "description": inputs.get("description", ""),
        "fields": fields,
        "buttons": _buttons(inputs),
        "values": dict(inputs.get("values") or {}),
        "errors": {},
    }


def form_output_schema(with_: Mapping[str, Any]) -> dict[str, Any] | None:
    """A form's output as its fields declare it (for `flowengine validate`): one key per
    field name; None when the fields are built by a template."""
    raw = with_.get("fields")
    if not isinstance(raw, list):
        return None
    names = [
        f if isinstance(f, str) else f.get("name") if isinstance(f, dict) else None for f in raw
    ]
    if not names or not all(isinstance(n, str) and not templated(n) for n in names):
        return None  # no fields (a schema error already), or names a template builds
    return {"type": "object", "properties": {name: {} for name in names}}


@connector.capability(
    title="Show a form",
    outcomes=("success",),
    dynamic_outcomes="buttons",
    output_schema_of=form_output_schema,
    interactive=True,
    # Whatever people type into a form (names, birthdates, passwords) stays out of traces.
    personal_data=("*",),
)
def form(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any] | Outcome | Interaction:
    """Ask for the declared fields; on a valid response its values are the output."""
    fields = normalise_fields(inputs["fields"])
    data = _form_data(inputs, fields)
    response = ctx.response
    if response is None:
        return Interaction("form", data)
    if not isinstance(response, dict):
        raise ConnectorError(
            f"form {ctx.node_id!r} needs an object of field values, got {type(response).__name__}",
            code="INVALID_RESPONSE",
        )
    action = response.get("action")
    if action not in (None, "", "success"):
        return _button_outcome(inputs, action, response, ctx)
    values, errors = validate_response(fields, response)
    if errors:
        kept = {f["name"]: response.get(f["name"]) for f in fields if f["type"] != "password"}
        return Interaction("form", {**data, "values": kept, "errors": errors})
    return values


def _button_outcome(
    inputs: dict[str, Any], action: str, response: dict[str, Any], ctx: CallContext
) -> Outcome:
    """The outcome of a FLOW_BUTTON press: its declared outcome, the response as output."""
    declared = list((inputs.get("buttons") or {}).values())
    if action not in declared:
        raise ConnectorError(
            f"form {ctx.node_id!r} has no button {action!r}; its buttons are "
            f"{['success', *declared]}",
            code="UNKNOWN_ACTION",
        )
    # Another button skips validation (a "Cancel" must work on an empty form).
    return Outcome(action, {k: v for k, v in response.items() if k != "action"})


# A screen's title and message are free text that flows build from what they know about the
# person (a greeting by name, the verified data shown back): personal data, kept out of traces.
# A QR code's url and fallback_text point at the verification session, not at the person.
_SCREEN_TEXT = ("title", "message")


@connector.capability(
    title="Show a QR code", outcomes=("success",), interactive=True, personal_data=_SCREEN_TEXT
)
def qr(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any] | Interaction:
    """Show `url` as a QR code; continue after `poll_interval` seconds (or on any response)."""
    if ctx.response is None:
        data = {
            "url": inputs["url"],
            "title": inputs.get("title", ""),
            "message": inputs.get("message", ""),
            "fallback_text": inputs.get("fallback_text", inputs["url"]),
        }
        return Interaction("qr", data, poll_interval=float(inputs.get("poll_interval", 5)))
    return {"continued": True}


@connector.capability(
    title="Show a message", outcomes=("success",), interactive=True, personal_data=_SCREEN_TEXT
)
def message(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any] | Interaction:
    """Show a title and a message; any response acknowledges it."""
    if ctx.response is None:
        data = {"title": inputs.get("title", ""), "message": inputs.get("message", "")}
        return Interaction("message", data)
    return {"acknowledged": True}


@connector.capability(
    title="End the run with a success response",
    outcomes=("success",),
    personal_data=("result",),  # results usually carry the verified person's data
)
def success(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """End the run (leave the outcome unrouted) with `result` as its JSON result."""
    return {"result": inputs.get("result")}


def error_text(with_: Mapping[str, Any]) -> tuple[str, ...]:
    """The personal data paths of one `error` node: its message and details built from the run."""
    # Flows build them from verified data (registration.yaml's provider messages and match
    # results); what the node raises carries them into its error too. Literals stay readable.
    fields = [name for name in ("message", "details") if templated(with_.get(name))]
    return tuple(path for name in fields for path in (name, f"error.{name}"))


@connector.capability(
    title="End the run with an error response", outcomes=("error",), personal_data_of=error_text
)
def error(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Fail the run with `code` and `message` (DaVinci's createErrorResponse)."""
    raise ConnectorError(
        inputs["message"],
        code=inputs.get("code", "FLOW_ERROR"),
        details=list(inputs.get("details") or []),
        status_code=inputs.get("status_code", 400),
    )


def qr_data_url(url: str) -> str:
    """The QR code of `url` as a PNG data URL (a DaVinci QR_CODE field's `content`)."""
    import qrcode  # imported here: only the flow API server and the CLI need images

    buffer = io.BytesIO()
    qrcode.make(url).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@hookimpl
def register_connectors(register: Callable[[Connector], None]) -> None:
    """Register the ui connector."""
    register(connector)

"""Interactions as DaVinci client collectors (protocol §4.2, §6), and submits as responses.

The table, with what each collector submits, is in docs/flow-api.md.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from flowengine._serving.service import Refused

__all__ = ["POLLING_KEY", "fields_of", "response_of", "values_of"]

POLLING_KEY = "polling"
QR_KEY = "qr"
SUBMIT_KEY = "success"
"""The SUBMIT_BUTTON's key: the form's primary outcome (FLOW_BUTTONs carry theirs)."""
POLL_RETRIES = 720
"""How often the SDK polls before it gives up (`timedOut`): an hour at a 5 s interval."""


def qr_data_url(url: str) -> str:
    """`url` as a PNG QR code data URL (a QR_CODE field's `content`)."""
    import qrcode

    buffer = io.BytesIO()
    qrcode.make(url).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


_CHOICES = {"select": ("DROPDOWN", "SINGLE_SELECT"), "multiselect": ("CHECKBOX", "MULTI_SELECT")}
"""A choice field's type: (its collector, the collector's inputType)."""


def _form_field(field: dict[str, Any]) -> dict[str, Any]:
    kind = field.get("type", "text")
    key, label = field["name"], field.get("label") or field["name"]
    required = bool(field.get("required", False))
    if kind == "password":
        return {"type": "PASSWORD", "key": key, "label": label, "required": required}
    if kind in _CHOICES:
        wire_type, input_type = _CHOICES[kind]
        return {
            "type": wire_type,
            "key": key,
            "label": label,
            "required": required,
            "options": [dict(o) for o in field.get("options", [])],
            "inputType": input_type,
        }
    if kind == "checkbox":
        return {
            "type": "SINGLE_CHECKBOX",
            "key": key,
            "label": label,
            "required": required,
            "inputType": "BOOLEAN",
        }
    wire: dict[str, Any] = {"type": "TEXT", "key": key, "label": label, "required": required}
    if field.get("pattern"):
        message = field.get("error_message") or f"{label} has the wrong format"
        wire["validation"] = {"regex": field["pattern"], "errorMessage": message}
    return wire


def _label(text: Any) -> dict[str, Any]:
    return {"type": "LABEL", "content": str(text)}


def fields_of(interaction: dict[str, Any]) -> list[dict[str, Any]]:
    """`form.components.fields` for a stored interaction ({kind, data, poll_interval})."""
    kind, data = interaction.get("kind"), interaction.get("data") or {}
    if kind == "form":
        fields = [_form_field(f) for f in data.get("fields", [])]
        for button in data.get("buttons") or [{"outcome": SUBMIT_KEY, "label": "Continue"}]:
            wire = "SUBMIT_BUTTON" if button.get("outcome") == SUBMIT_KEY else "FLOW_BUTTON"
            fields.append({"type": wire, "key": button["outcome"], "label": button["label"]})
        return fields
    if kind == "qr":
        url = str(data.get("url", ""))
        interval = float(interaction.get("poll_interval") or 5)
        fields = [_label(data[k]) for k in ("title", "message") if data.get(k)]
        fields.append(
            {
                "type": "QR_CODE",
                "key": QR_KEY,
                "content": qr_data_url(url),
                "fallbackText": str(data.get("fallback_text") or url),
            }
        )
        fields.append(_label(url))  # the link on screen too, for a person on the same device
        fields.append(
            {
                "type": "POLLING",
                "key": POLLING_KEY,
                "pollInterval": int(interval * 1000),
                "pollRetries": POLL_RETRIES,
            }
        )
        return fields
    if kind == "message":
        fields = [_label(data[k]) for k in ("title", "message") if data.get(k)]
        fields.append({"type": "SUBMIT_BUTTON", "key": SUBMIT_KEY, "label": "Continue"})
        return fields
    raise Refused(
        500,
        "UNSUPPORTED_INTERACTION",
        f"a {kind!r} interaction has no DaVinci collectors; drive this run over the plain API",
    )


def values_of(interaction: dict[str, Any]) -> dict[str, Any]:
    """`formData.value`: a form's prefill, every field present (a password always empty)."""
    if interaction.get("kind") != "form":
        return {}
    data = interaction.get("data") or {}
    values = data.get("values") or {}
    return {
        f["name"]: "" if f.get("type") == "password" else values.get(f["name"], "")
        for f in data.get("fields", [])
    }


def _field_error(target: str, message: str) -> dict[str, Any]:
    return {"code": "INVALID_VALUE", "target": target, "message": message}


def response_of(interaction: dict[str, Any], event: str, action: str, form: Any) -> Any:
    """The engine response for a submit / action / polling event on this interaction."""
    kind, data = interaction.get("kind"), interaction.get("data") or {}
    if form is None:
        form = {}
    if not isinstance(form, dict):
        raise Refused(400, "INVALID_REQUEST", "parameters.data.formData must be an object")
    if kind == "form":
        fields = {f["name"] for f in data.get("fields", [])}
        unknown = sorted(k for k in form if k not in fields)
        if unknown:
            raise Refused(
                400,
                "INVALID_DATA",
                f"formData has fields this form does not have: {', '.join(unknown)}",
                [_field_error(k, "This form has no such field") for k in unknown],
            )
        outcomes = [b.get("outcome") for b in data.get("buttons") or []]
        if event == "action":
            if action == SUBMIT_KEY or action not in outcomes:
                raise Refused(400, "INVALID_ACTION", f"no button {action!r}; buttons: {outcomes}")
            return {**form, "action": action}
        if action not in ("", SUBMIT_KEY):
            raise Refused(
                400, "INVALID_ACTION", f"the submit button is {SUBMIT_KEY!r}, not {action!r}"
            )
        return dict(form)
    unknown = sorted(k for k in form if k != POLLING_KEY)
    if unknown:
        raise Refused(
            400,
            "INVALID_DATA",
            f"formData has fields this screen does not have: {', '.join(unknown)}",
            [_field_error(k, "This screen has no such field") for k in unknown],
        )
    return {}

"""The built-in connectors' capabilities, called directly (no engine)."""

from __future__ import annotations

from typing import Any

import pytest

from connectors import functions, ui, variables
from flowengine import (
    CallContext,
    ConnectorError,
    Interaction,
    Outcome,
    Registry,
    SchemaValidationError,
    VirtualClock,
    load_registry,
)


def ctx(response: Any = None, vars: dict[str, Any] | None = None) -> CallContext:
    return CallContext(
        run_id="r1",
        node_id="n1",
        visit=1,
        settings={},
        connection=None,
        clock=VirtualClock(),
        response=response,
        vars=vars or {},
    )


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


def validated(registry: Any, qualname: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs checked against the capability's schema file, as the engine would."""
    connector, name = qualname.split(".")
    registry.capability(connector, name).input.validate(inputs)
    return inputs


@pytest.mark.parametrize(
    ("left", "operator", "right", "expected"),
    [
        ("a", "equals", "a", True),
        ("3", "equals", 3, True),
        (3, "equals", 3.0, True),
        ("a", "equals", "b", False),
        ("a", "not equals", "b", True),
        ("3", "not equals", 3, False),
        (True, "equals", 1, False),  # JSON's true is not the number 1
        (True, "equals", "true", True),  # "{{ ... }}" inside text renders true as "true"
        (None, "equals", "None", False),
        (None, "equals", None, True),
        (False, "equals", 0, False),
        ([True], "contains", 1, False),
        ("None of these", "contains", None, False),
        ("flag: true", "contains", True, True),
        ('tags: ["é"]', "contains", ["é"], True),  # as "{{ ... }}" renders a list inside text
        ("hello world", "contains", "world", True),
        (["x", "y"], "contains", "y", True),
        ([1, 2], "contains", "2", True),
        ({"k": 1}, "contains", "k", True),
        ("abc", "contains", "z", False),
        (10, "greater", 9, True),
        ("10", "greater", "9", True),
        (1, "less", 2, True),
        ("b", "less", "a", False),
        ("", "empty", None, True),
        ("  ", "empty", None, True),
        ([], "empty", None, True),
        (None, "empty", None, True),
        (0, "empty", None, False),
        ("x", "empty", None, False),
    ],
)
def test_compare(left: Any, operator: str, right: Any, expected: bool, registry: Any) -> None:
    inputs = validated(
        registry, "functions.compare", {"left": left, "operator": operator, "right": right}
    )
    result = functions.compare(inputs, ctx())
    assert result == Outcome(str(expected).lower(), {"result": expected})


def test_compare_refuses_mixed_ordering() -> None:
    with pytest.raises(ConnectorError) as e:
        functions.compare({"left": "abc", "operator": "greater", "right": 3}, ctx())
    assert e.value.code == "INVALID_COMPARISON"


def test_compare_schema_rejects_unknown_operator(registry: Any) -> None:
    from flowengine import SchemaValidationError

    with pytest.raises(SchemaValidationError) as e:
        validated(registry, "functions.compare", {"left": 1, "operator": "like", "right": 2})
    assert e.value.json_path == "$.operator"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("SUCCESS", "Success"), ("FAIL", "Fail"), ("PENDING", "No match"), (1, "one"), (True, "yes")],
)
def test_switch(value: Any, expected: str) -> None:
    cases = {"SUCCESS": "Success", "FAIL": "Fail", "1": "one", "true": "yes"}
    result = functions.switch({"value": value, "cases": cases, "default": "No match"}, ctx())
    assert result.name == expected
    assert result.output == {"value": value, "matched": expected != "No match"}


def test_switch_without_default_fails_on_no_match() -> None:
    with pytest.raises(ConnectorError, match="matches none of the cases"):
        functions.switch({"value": "x", "cases": {"a": "A"}}, ctx())


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("False", False),
        ("no", False),
        ("1", True),
        ("", False),
        (0, False),
        (2, True),
        (None, False),
        ([], False),
        ([0], True),
    ],
)
def test_condition(expression: Any, expected: bool) -> None:
    result = functions.condition({"expression": expression}, ctx())
    assert result == Outcome("true" if expected else "false", {"result": expected})


def test_condition_refuses_unreadable_text() -> None:
    with pytest.raises(ConnectorError, match="neither true nor false"):
        functions.condition({"expression": "vars.x > 3"}, ctx())


async def test_wait_sleeps_on_the_run_clock(registry: Any) -> None:
    context = ctx()
    before = context.clock.now()
    assert await functions.wait({"seconds": 7.5}, context) == {"waited": 7.5}
    assert context.clock.now() - before == 7.5
    schema = registry.capability("functions", "wait").input
    assert schema.is_valid({"seconds": 0}) and schema.is_valid({"seconds": 3600})
    assert not schema.is_valid({"seconds": -1}) and not schema.is_valid({"seconds": 3601})


def test_variables_set_and_increment() -> None:
    assert variables.set_variables({"values": {"a": 1, "b": "x"}}, ctx()) == {
        "set_vars": {"a": 1, "b": "x"}
    }
    assert variables.increment({"name": "n"}, ctx(vars={"n": 2})) == {
        "value": 3,
        "set_vars": {"n": 3},
    }
    assert variables.increment({"name": "m", "by": 5}, ctx()) == {"value": 5, "set_vars": {"m": 5}}
    with pytest.raises(ConnectorError, match="not a number"):
        variables.increment({"name": "s"}, ctx(vars={"s": "text"}))


@pytest.mark.parametrize(
    ("values", "paths"),
    [
        ({"index": 0, "new_account": False, "status": "NONE"}, ()),
        (
            {"index": 0, "email": "{{ inputs.email }}", "ids": ["a", "{{ vars.id }}"]},
            ("values.email", "set_vars.email", "values.ids", "set_vars.ids"),
        ),
        ("{{ nodes.form.output }}", ("values.*", "set_vars.*")),
    ],
)
def test_set_hides_what_it_copies_from_the_run(values: Any, paths: tuple[str, ...]) -> None:
    assert variables.copied_values({"values": values}) == paths


def test_increment_error_names_the_type_not_the_value() -> None:
    with pytest.raises(ConnectorError) as info:
        variables.increment({"name": "who"}, ctx(vars={"who": "ada@example.com"}))
    assert "ada@example.com" not in str(info.value)
    assert "'who' holds str, not a number" in str(info.value)


FORM = {
    "title": "About you",
    "fields": [
        "given_name",
        {"name": "email", "type": "email"},
        {"name": "age", "type": "number", "required": False},
        {"name": "birthdate", "type": "date"},
        {
            "name": "country",
            "type": "select",
            "options": ["FR", {"label": "Germany", "value": "DE"}],
        },
        {
            "name": "secret",
            "type": "password",
            "pattern": ".{8,}",
            "error_message": "8 characters at least",
        },
    ],
    "buttons": {"Cancel": "cancel"},
}
GOOD = {
    "given_name": "Ada",
    "email": "ada@example.com",
    "age": "36",
    "birthdate": "1815-12-10",
    "country": "DE",
    "secret": "correct horse",
}


def test_form_asks_with_davinci_collectors(registry: Any) -> None:
    interaction = ui.form(validated(registry, "ui.form", FORM), ctx())
    assert isinstance(interaction, Interaction) and interaction.kind == "form"
    fields = interaction.data["fields"]
    assert [f["collector"] for f in fields] == [
        "TEXT",
        "TEXT",
        "TEXT",
        "TEXT",
        "DROPDOWN",
        "PASSWORD",
    ]
    assert fields[0] == {
        "name": "given_name",
        "label": "Given name",
        "type": "text",
        "required": True,
        "collector": "TEXT",
    }
    assert fields[4]["options"] == [
        {"label": "FR", "value": "FR"},
        {"label": "Germany", "value": "DE"},
    ]
    assert interaction.data["buttons"] == [
        {"outcome": "success", "label": "Continue", "type": "SUBMIT_BUTTON"},
        {"outcome": "cancel", "label": "Cancel", "type": "FLOW_BUTTON"},
    ]
    assert interaction.poll_interval is None


def test_form_valid_response_is_typed_output(registry: Any) -> None:
    output = ui.form(FORM, ctx(response=GOOD))
    assert output == {**GOOD, "age": 36}
    registry.capability("ui", "form").output.validate(output)


def test_form_optional_field_left_empty_is_null() -> None:
    assert ui.form(FORM, ctx(response={**GOOD, "age": ""}))["age"] is None


def test_form_invalid_response_asks_again_with_errors() -> None:
    bad = {
        **GOOD,
        "given_name": " ",
        "email": "ada",
        "birthdate": "1815-02-30",
        "country": "XX",
        "secret": "short",
    }
    again = ui.form(FORM, ctx(response=bad))
    assert isinstance(again, Interaction)
    assert again.data["errors"] == {
        "given_name": "Given name is required",
        "email": "Email is not an email address",
        "birthdate": "Birthdate is not a real date (YYYY-MM-DD)",
        "country": "Country must be one of: FR, DE",
        "secret": "8 characters at least",
    }
    assert "secret" not in again.data["values"]  # passwords are never echoed back
    assert again.data["values"]["email"] == "ada"


CHOICES = {
    "fields": [
        {"name": "channels", "type": "multiselect", "options": ["email", "sms", "post"]},
        {"name": "newsletter", "type": "checkbox", "required": False},
        {"name": "terms", "type": "checkbox", "label": "I accept the terms"},
    ]
}


def test_form_multiselect_and_checkbox_fields(registry: Any) -> None:
    asked = ui.form(validated(registry, "ui.form", CHOICES), ctx())
    assert isinstance(asked, Interaction)
    assert [f["collector"] for f in asked.data["fields"]] == [
        "MULTI_SELECT",
        "SINGLE_CHECKBOX",
        "SINGLE_CHECKBOX",
    ]
    good = {"channels": ["sms", "email"], "terms": True}
    output = ui.form(CHOICES, ctx(response=good))
    assert output == {"channels": ["sms", "email"], "newsletter": False, "terms": True}
    registry.capability("ui", "form").output.validate(output)
    # Forms over HTTP send words: a checkbox may come as "true" / "false".
    assert ui.form(CHOICES, ctx(response={**good, "newsletter": "true"}))["newsletter"] is True


def test_form_multiselect_and_checkbox_errors() -> None:
    again = ui.form(CHOICES, ctx(response={"channels": ["fax"], "newsletter": "maybe"}))
    assert isinstance(again, Interaction)
    assert again.data["errors"] == {
        "channels": "Channels has 1 choice(s) not among: email, sms, post",
        "newsletter": "Newsletter must be true or false",
        "terms": "I accept the terms must be ticked",
    }
    empty = ui.form(CHOICES, ctx(response={"channels": [], "terms": True}))
    assert isinstance(empty, Interaction)
    assert empty.data["errors"] == {"channels": "Channels needs at least one choice"}


def test_a_multiselect_needs_options(registry: Any) -> None:
    with pytest.raises(SchemaValidationError):
        validated(registry, "ui.form", {"fields": [{"name": "c", "type": "multiselect"}]})


def test_form_button_reports_its_outcome_without_validation() -> None:
    assert ui.form(FORM, ctx(response={"action": "cancel"})) == Outcome("cancel", {})
    with pytest.raises(ConnectorError) as e:
        ui.form(FORM, ctx(response={"action": "delete"}))
    assert e.value.code == "UNKNOWN_ACTION"


def test_qr_waits_poll_interval_then_continues(registry: Any) -> None:
    inputs = validated(
        registry, "ui.qr", {"url": "https://x.test/v/1", "title": "Scan", "poll_interval": 2}
    )
    shown = ui.qr(inputs, ctx())
    assert shown == Interaction(
        "qr",
        {
            "url": "https://x.test/v/1",
            "title": "Scan",
            "message": "",
            "fallback_text": "https://x.test/v/1",
        },
        poll_interval=2.0,
    )
    assert ui.qr(inputs, ctx(response={})) == {"continued": True}
    assert ui.qr({"url": "u"}, ctx()).poll_interval == 5.0


def test_qr_data_url_is_a_png() -> None:
    import base64

    url = ui.qr_data_url("https://x.test")
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_message_success_error() -> None:
    shown = ui.message({"title": "Hi", "message": "Done"}, ctx())
    assert shown == Interaction("message", {"title": "Hi", "message": "Done"})
    assert ui.message({}, ctx(response={})) == {"acknowledged": True}
    assert ui.success({"result": {"ok": 1}}, ctx()) == {"result": {"ok": 1}}
    with pytest.raises(ConnectorError) as e:
        ui.error({"code": "DENIED", "message": "No entry"}, ctx())
    assert (e.value.code, e.value.message, e.value.status_code) == ("DENIED", "No entry", 400)


def test_builtins_declare_their_outcomes(registry: Any) -> None:
    outcomes = {
        q: registry.capability(*q).capability.outcomes
        for q in registry.capabilities
        if q[0] in {"functions", "ui", "variables"}
    }
    assert outcomes[("functions", "compare")] == ("true", "false")
    assert registry.capability("functions", "switch").capability.dynamic_outcomes == (
        "cases",
        "default",
    )
    assert registry.capability("ui", "form").capability.interactive
    assert outcomes[("ui", "error")] == ("error",)


def test_form_field_declared_twice_is_an_error() -> None:
    with pytest.raises(ConnectorError, match="form field 'email' is declared twice") as e:
        ui.form({"fields": ["email", {"name": "email", "type": "email"}]}, ctx())
    assert e.value.code == "INVALID_FORM"


def test_form_output_schema_lists_the_declared_fields(registry: Any) -> None:
    derive = registry.capability("ui", "form").capability.output_schema_of
    fields = ["given_name", {"name": "email", "type": "email"}, {"name": "n", "type": "number"}]
    assert derive({"fields": fields}) == {
        "type": "object",
        "properties": {"given_name": {}, "email": {}, "n": {}},
    }
    # Fields a template builds (the list or a name) are known only when the run renders them.
    assert derive({"fields": "{{ vars.fields }}"}) is None
    assert derive({"fields": ["{{ vars.name }}", "email"]}) is None
    assert derive({"fields": [{"type": "email"}]}) is None  # no name: a schema error already
    assert derive({"fields": []}) is None  # no fields: likewise


def test_ui_screens_declare_their_text_personal_data(registry: Any) -> None:
    personal = {
        name: registry.capability("ui", name).capability.personal_data
        for name in ("form", "qr", "message", "success", "error")
    }
    assert personal == {
        "form": ("*",),  # whatever a person types
        "qr": ("title", "message"),  # free text a flow may build from the person's data
        "message": ("title", "message"),
        "success": ("result",),
        "error": (),  # its message and details are for logs: flows keep them generic
    }


PERSONAL = "ada.lovelace@example.com"


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            lambda: functions.compare({"left": PERSONAL, "operator": "greater", "right": 3}, ctx()),
            "cannot compare a str greater a int",
        ),
        (
            lambda: functions.switch({"value": PERSONAL, "cases": {"a": "A"}}, ctx()),
            "the value (str) matches none of the cases ['a']",
        ),
        (
            lambda: functions.condition({"expression": PERSONAL}, ctx()),
            "the condition's text (24 characters) is neither true nor false",
        ),
    ],
)
def test_function_errors_name_types_not_values(call: Any, expected: str) -> None:
    with pytest.raises(ConnectorError) as info:
        call()
    assert PERSONAL not in str(info.value)
    assert expected in str(info.value)


def test_form_textarea_keeps_text_as_typed_text_is_stripped(registry: Any) -> None:
    form = {"fields": [{"name": "code", "type": "textarea"}, "name"]}
    asked = ui.form(validated(registry, "ui.form", form), ctx())
    assert isinstance(asked, Interaction)
    assert asked.data["fields"][0]["collector"] == "TEXT"
    barcode = "@\n\x1e\rANSI 636000100002DL00410278ZV03190008DLDCAD\nDCGUSA\n\r"
    output = ui.form(form, ctx(response={"code": barcode, "name": "  Ada \n"}))
    assert output == {"code": barcode, "name": "Ada"}
    assert ui.form(form, ctx(response={"code": " \n", "name": "Ada"})).data["errors"] == {
        "code": "Code is required"
    }

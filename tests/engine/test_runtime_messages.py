"""Runtime validation messages name the place and the constraint, never the value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from runtime_support import load

from flowengine import (
    CallContext,
    CompiledSchema,
    Connector,
    Engine,
    Registry,
    RunError,
    SchemaValidationError,
    VirtualClock,
)

# private: tests the value-free schema messages directly
from flowengine._plugins.schema import schema_problem

PERSON = {"given_name": "Johnathan", "family_name": "Smithers", "email": "john@example.com"}


def make_registry() -> Registry:
    """A `p` connector: `save` wants a string `name` and a `region`; `leak` returns junk."""
    connector = Connector(
        name="p",
        settings_schema={
            "type": "object",
            "properties": {"region": {"type": "string", "enum": ["NA", "EU", "sandbox"]}},
        },
    )

    @connector.capability(
        input_schema={
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "status": {"enum": ["ACTIVE", "LOCKED"]},
                "code": {"type": "string", "pattern": "^[0-9]{4}$"},
                "email": {"type": "string", "format": "email"},
            },
        },
        output_schema={"type": "object"},
    )
    def save(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return dict(inputs)

    @connector.capability(
        input_schema={"type": "object"},
        output_schema={
            "type": "object",
            "properties": {"user": {"type": "object", "properties": {"name": {"type": "string"}}}},
        },
    )
    def leak(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {"user": {"name": inputs["person"]}}

    registry = Registry()
    registry.add_connector(connector, plugin="test")
    return registry


def flow_text(node_inputs: str, use: str = "p.save") -> str:
    return f"""
flow: messages
connections:
  p: {{connector: p, settings: {{region: "${{REGION:-NA}}"}}}}
inputs:
  type: object
  properties:
    person: {{type: object}}
    name: {{type: string}}
    status: {{type: string, default: active}}
start: a
nodes:
  a:
    use: {use}
    with: {node_inputs}
    on: {{error: b}}
  b: {{use: p.save, with: {{}}}}
"""


async def _run(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> Any:
    registry = make_registry()
    async with Engine(registry, clock=VirtualClock(), environ=environ or {}) as engine:
        return await engine.start(load(tmp_path, text, registry), {"person": PERSON})


def _no_personal_data(data: Any) -> None:
    text = json.dumps(data)
    for value in PERSON.values():
        assert value not in text


async def test_input_of_the_wrong_type_names_the_type_found_not_the_value(
    tmp_path: Path,
) -> None:
    run = await _run(tmp_path, flow_text('{name: "{{ inputs.person }}"}'))
    error = run.nodes["a"]["error"]
    assert error["code"] == "INPUT_INVALID"
    assert error["message"] == (
        "Node 'a' input invalid at $.name: expected string, found an object"
    )
    assert error["details"] == [
        {"json_path": "$.name", "message": "expected string, found an object"}
    ]
    _no_personal_data(run.nodes["a"]["error"])
    _no_personal_data([event["error"] for event in run.trace])


async def test_output_of_the_wrong_type_names_the_type_found_not_the_value(
    tmp_path: Path,
) -> None:
    run = await _run(tmp_path, flow_text('{person: "{{ inputs.person }}"}', use="p.leak"))
    error = run.nodes["a"]["error"]
    assert error["code"] == "OUTPUT_INVALID"
    assert error["message"] == (
        "Node 'a' output of p.leak invalid at $.user.name: expected string, found an object"
    )
    _no_personal_data(error)
    _no_personal_data([event["error"] for event in run.trace])


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            '{status: "{{ inputs.person.given_name }}"}',
            "$.status: a string of 9 characters is not one of ['ACTIVE', 'LOCKED']",
        ),
        (
            '{status: "{{ inputs.status }}"}',
            "$.status: a string of 6 characters is not one of "
            "['ACTIVE', 'LOCKED']; did you mean 'ACTIVE'?",
        ),
        (
            '{code: "{{ inputs.person.family_name }}"}',
            "$.code: a string of 8 characters does not match the pattern '^[0-9]{4}$'",
        ),
        (
            '{email: "{{ inputs.person.given_name }}"}',
            "$.email: a string of 9 characters is not a valid 'email'",
        ),
    ],
)
async def test_enum_pattern_and_format_failures_do_not_echo_the_value(
    tmp_path: Path, inputs: str, message: str
) -> None:
    run = await _run(tmp_path, flow_text(inputs))
    assert run.nodes["a"]["error"]["message"] == f"Node 'a' input invalid at {message}"
    _no_personal_data(run.nodes["a"]["error"])


async def test_flow_inputs_error_names_the_type_found(tmp_path: Path) -> None:
    registry = make_registry()
    flow = load(tmp_path, flow_text("{}"), registry)
    async with Engine(registry, clock=VirtualClock(), environ={}) as engine:
        with pytest.raises(RunError) as raised:
            await engine.start(flow, {"name": {"secret_name": "Johnathan"}})
    assert "inputs invalid at $.name: expected string, found an object" in str(raised.value)
    assert "Johnathan" not in str(raised.value)


async def test_region_in_the_wrong_case_suggests_the_right_one(tmp_path: Path) -> None:
    run = await _run(tmp_path, flow_text("{}"), {"REGION": "eu"})
    assert run.nodes["a"]["error"]["message"] == (
        "Connection 'p' settings invalid at $.region: a string of 2 characters is not one of "
        "['NA', 'EU', 'sandbox']; did you mean 'EU'? (the value comes from $REGION)"
    )


async def test_a_secret_in_an_enum_setting_is_neither_echoed_nor_suggested(
    tmp_path: Path,
) -> None:
    secret = "sandbox-secret-9f8e7d"  # close to 'sandbox', yet a secret: only 'sandbox' shows
    run = await _run(tmp_path, flow_text("{}"), {"REGION": secret})
    message = run.nodes["a"]["error"]["message"]
    assert secret not in message and secret not in json.dumps(run.to_dict())
    assert "a string of 21 characters is not one of ['NA', 'EU', 'sandbox']" in message


def test_problems_in_words() -> None:
    schema = CompiledSchema(
        {
            "type": "object",
            "required": ["a", "b"],
            "properties": {
                "n": {"type": ["integer", "null"]},
                "u": {"anyOf": [{"type": "string"}, {"type": "array"}]},
                "c": {"const": "X"},
                "m": {"type": "integer", "minimum": 3},
            },
        }
    )
    found = {
        str(e.json_path): schema_problem(e)
        for e in schema.errors({"n": "x", "u": 4, "c": "x", "m": 1})
    }
    assert found == {
        "$": "required properties 'a', 'b' missing",
        "$.n": "expected integer or null, found a string of 1 character",
        "$.u": "expected string or array, found an integer",
        "$.c": "a string of 1 character is not 'X'; did you mean 'X'?",
        "$.m": "an integer does not satisfy minimum: 3",
    }


async def test_a_routed_error_line_shows_the_code_and_never_a_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from runtime_support import make_registry as make_t_registry

    # private: tests the terminal output directly
    from flowengine._cli.terminal import Terminal

    secret = "tok-3a9f8e7d6c5b"
    registry = make_t_registry()
    flow = load(
        tmp_path,
        """
        flow: routed
        connections:
          c: {connector: t, settings: {token: "${TOKEN}"}}
        start: a
        nodes:
          a:
            use: c.fail
            with: {code: REQUEST_LIMITED, message: "too many calls with {{ inputs.t }}"}
            on: {error: b}
          b: {use: c.echo}
        """,
        registry,
    )
    terminal = Terminal()
    environ = {"TOKEN": secret}
    async with Engine(
        registry, clock=VirtualClock(), environ=environ, trace_sinks=[terminal.on_event]
    ) as engine:
        run = await engine.start(flow, {"t": secret})
    assert run.status == "completed"
    out = capsys.readouterr().out
    assert "a -> error (REQUEST_LIMITED: too many calls with [REDACTED])" in out
    assert secret not in out


def test_compiled_schema_validate_names_the_kind_never_the_value() -> None:
    # CompiledSchema.validate is public: plugins and tests call it on values that may hold
    # personal data, so its message is the value-free one the engine uses too.
    schema = CompiledSchema({"type": "object", "properties": {"email": {"type": "integer"}}})
    with pytest.raises(SchemaValidationError) as info:
        schema.validate({"email": "ada@example.com"}, where="Profile")
    assert str(info.value) == (
        "Profile invalid at $.email: expected integer, found a string of 15 characters"
    )
    assert info.value.json_path == "$.email"

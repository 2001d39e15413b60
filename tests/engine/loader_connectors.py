"""Small connectors with inline schemas for the loader tests (no plugins, no files)."""

from __future__ import annotations

from typing import Any

from flowengine_connectors.ui import form_output_schema

from connectors import variables
from flowengine import CallContext, Connector, Outcome, Registry

OBJECT: dict[str, Any] = {"type": "object"}
# An output schema specific enough for the loader to judge the keys flows read (FE068).
POLICY_OUTPUT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "verifyPolicy": {
            "type": "object",
            "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
            "additionalProperties": False,
        },
        "documents": {
            "type": "array",
            "items": {"type": "object", "properties": {"id": {}}, "additionalProperties": False},
        },
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "links": {"type": "object", "properties": {"self": {}}, "additionalProperties": True},
        "statusCode": {"type": "integer"},
    },
}


def _ui() -> Connector:
    ui = Connector(name="ui")

    @ui.capability(
        outcomes=("success",),
        dynamic_outcomes="buttons",
        interactive=True,
        input_schema={
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "fields": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                "buttons": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "required": ["fields"],
            "additionalProperties": False,
        },
        output_schema=OBJECT,
        output_schema_of=form_output_schema,  # the real form's: one key per field
    )
    def form(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {}

    @ui.capability(
        input_schema={"type": "object", "properties": {"message": {"type": "string"}}},
        output_schema=OBJECT,
    )
    def message(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {}

    return ui


def _functions() -> Connector:
    functions = Connector(name="functions")

    @functions.capability(
        outcomes=("true", "false"),
        input_schema={
            "type": "object",
            "properties": {
                "left": {},
                "right": {},
                "operator": {"enum": ["equals", "greater", "less"]},
            },
            "required": ["left", "operator"],
        },
        output_schema={"type": "object", "properties": {"result": {"type": "boolean"}}},
    )
    def compare(inputs: dict[str, Any], ctx: CallContext) -> Outcome:
        return Outcome("true")

    @functions.capability(
        outcomes=(),
        dynamic_outcomes=("cases", "default"),
        input_schema={
            "type": "object",
            "properties": {
                "value": {},
                "cases": {"type": "object", "additionalProperties": {"type": "string"}},
                "default": {"type": "string"},
            },
            "required": ["value", "cases"],
        },
        output_schema=OBJECT,
    )
    def switch(inputs: dict[str, Any], ctx: CallContext) -> Outcome:
        return Outcome(inputs["default"])

    @functions.capability(input_schema=OBJECT, output_schema=OBJECT)
    def noop(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {}

    return functions


def _verify() -> Connector:
    verify = Connector(
        name="pingone_verify",
        settings_schema={
            "type": "object",
            "properties": {
                "environment_id": {"type": "string"},
                "region": {"enum": ["NA", "EU", "CA", "AU", "SG", "AP", "sandbox"]},
                "client_id": {"type": "string"},
                "client_secret": {"type": "string"},
            },
            "required": ["environment_id"],
            "additionalProperties": False,
        },
        secret_settings=("client_secret",),
    )

    @verify.capability(
        input_schema={
            "type": "object",
            "properties": {
                "userId": {"type": "string"},
                "deviceOsType": {"enum": ["Mobile Web", "Android", "iOS"]},
                "biographic": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
                        "required": ["name", "value"],
                    },
                },
            },
            "required": ["userId"],
        },
        output_schema=OBJECT,
    )
    def createVerifyTransaction(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {}

    @verify.capability(
        input_schema={
            "type": "object",
            "properties": {"transactionId": {"type": "string"}},
            "required": ["transactionId"],
        },
        output_schema=OBJECT,
    )
    def readGovernmentID(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {}

    @verify.capability(input_schema=OBJECT, output_schema=POLICY_OUTPUT)
    def readVerifyPolicy(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {}

    @verify.capability(input_schema=OBJECT, output_schema=OBJECT)
    def readMetaData(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {}

    return verify


def make_registry() -> Registry:
    """A Registry with test versions of ui, functions and pingone_verify, and variables."""
    registry = Registry()
    for connector in (_ui(), _functions(), _verify()):
        registry.add_connector(connector, "loader-tests")
    registry.add_connector(variables.connector, "loader-tests")  # the real one: FE069
    return registry


def secret_connector() -> Connector:
    """A connector with a secret setting, to check that its value is never echoed."""
    vault = Connector(
        name="vault",
        settings_schema={"type": "object", "properties": {"password": {"type": "string"}}},
        secret_settings=("password",),
    )

    @vault.capability(input_schema=OBJECT, output_schema=OBJECT)
    def get(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        return {}

    return vault

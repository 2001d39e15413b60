"""SchemaValidationError holds no value it was raised for: `.errors` are value-free data."""

from __future__ import annotations

import pickle

import pytest

from flowengine import CompiledSchema, SchemaProblem, SchemaValidationError

SECRET = "s3cr3t-Value-0123456789"

SCHEMA = {
    "type": "object",
    "properties": {
        "client_secret": {"type": "string", "pattern": "^[0-9]+$"},
        "region": {"enum": ["NA", "EU"]},
        "port": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "nested": {"type": "object", "properties": {"token": {"const": "x"}}},
    },
    "required": ["client_secret"],
}


def _raised(value: object) -> SchemaValidationError:
    with pytest.raises(SchemaValidationError) as info:
        CompiledSchema(SCHEMA, name="settings").validate(value, where="Connection 'c' settings")
    return info.value


@pytest.mark.parametrize(
    "value",
    [
        {"client_secret": SECRET},
        {"client_secret": "1", "region": SECRET},
        {"client_secret": "1", "port": SECRET},
        {"client_secret": "1", "nested": {"token": SECRET}},
        {"client_secret": "1", "region": SECRET, "port": SECRET, "nested": {"token": SECRET}},
    ],
)
def test_an_error_for_a_secret_value_holds_it_nowhere(value: object) -> None:
    error = _raised(value)
    assert error.errors and all(isinstance(p, SchemaProblem) for p in error.errors)
    for text in (str(error), repr(error), repr(error.errors), repr(vars(error)), str(error.args)):
        assert SECRET not in text
    assert SECRET.encode() not in pickle.dumps(error)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.errors == error.errors and str(copy) == str(error)


def test_problems_are_the_data_consumers_read() -> None:
    error = _raised({"client_secret": 5, "port": "eighty"})
    by_path = {p.json_path: p for p in error.errors}
    secret = by_path["$.client_secret"]
    assert secret.path == ("client_secret",) and secret.validator == "type"
    assert secret.expected == "string" and secret.found == "integer"
    assert secret.message == "expected string, found an integer"
    assert secret.schema_path == ("properties", "client_secret", "type")
    port = by_path["$.port"]
    assert port.validator == "anyOf" and port.found == "string"
    assert [(c.validator, c.expected) for c in port.context] == [
        ("type", "integer"),
        ("type", "null"),
    ]
    with pytest.raises(AttributeError):
        secret.message = "changed"  # type: ignore[misc]

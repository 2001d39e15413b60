"""The PingOne Verify schemas, checked against the connector's reference documentation.

The capability list, every documented input field (type and constraints), every dropdown
choice and default, every documented output field and the Output Examples are read out of
the reference document, so the transcription in schemas/pingone_verify/ is checked, not
trusted. Where the document contradicts itself the schemas follow its schema blocks; those
choices are listed in docs/assumptions.md and here (KNOWN_TYPE_SLIPS, _normalised_example).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from flowengine_connectors.pingone_verify import connector
from shared_files import shared_file

from flowengine import CompiledSchema

REPO = Path(__file__).resolve().parents[2]
assert connector.schema_dir is not None
SCHEMAS = connector.schema_dir / "pingone_verify"
REFERENCE_NAME = "reference/pingone-verify-connector.md"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
WIDGETS = (
    "textField|dropDown|dropDownMultiSelect|multipleTextFields|selectNameValueListColumn"
    "|toggleSwitch|colorPicker"
)
# DaVinci stores some dropdown choices under a value other than their label.
STORED_VALUES = {
    "Use Verify Policy ID": "useVerifyPolicyId",
    "Given Name": "given_name",
    "Family Name": "family_name",
    "Name": "name",
    "Address": "address",
    "Birthdate": "birth_date",
}
# Output field types the document gets wrong; the schema keeps the API's type (assumptions.md).
KNOWN_TYPE_SLIPS = {("readVerifyPolicy", "updatedAt"), ("readVerifyPolicy", "timeUnit")}


# ------------------------------------------------------------------ reading the document


@cache
def _doc() -> str:
    return shared_file(REFERENCE_NAME).read_text(encoding="utf-8")


def _front_matter() -> dict[str, Any]:
    _, front, _ = _doc().split("---", 2)
    loaded: dict[str, Any] = yaml.safe_load(front)
    return loaded


def documented_capabilities() -> dict[str, str]:
    """Capability id -> title: the section_ids between Capabilities and Troubleshooting."""
    ids = list(_front_matter()["section_ids"].items())
    keys = [k for k, _ in ids]
    start, end = keys.index("capabilities"), keys.index("troubleshooting")
    return dict(ids[start + 1 : end])


def capability_headings() -> list[str]:
    """The `### ` headings between `## Capabilities` and `## Troubleshooting`."""
    body = _doc().split("\n## Capabilities\n", 1)[1].split("\n## Troubleshooting\n", 1)[0]
    return re.findall(r"^### (.+)$", body, flags=re.M)


def _section(cap: str) -> str:
    title = documented_capabilities()[cap]
    rest = _doc().split(f"\n### {title}\n", 1)[1]
    return re.split(r"^##+ ", rest, maxsplit=1, flags=re.M)[0]


def _unescape(name: str) -> str:
    return name.replace("\\_", "_")


def _constraints(tail: str) -> dict[str, Any]:
    found: dict[str, Any] = {"required": " required" in f" {tail}"}
    for key, value in re.findall(r"(\w+): (\S+)", tail):
        found[key] = json.loads(value)
    return found


def documented_inputs(cap: str) -> dict[str, dict[str, Any]]:
    """Field -> {type, required, minLength, ...} from the doc's `properties object` block."""
    block = _section(cap).split("* properties object", 1)[1].split("- output object", 1)[0]
    fields = {}
    for name, typ, tail in re.findall(r"^>\s+\* (\S+) (\w+)(.*)$", block, flags=re.M):
        fields[_unescape(name)] = {"type": typ, **_constraints(tail)}
    return fields


def documented_widgets(cap: str) -> list[tuple[str, str, list[str]]]:
    """(label, widget, choices) for each entry of the doc's Properties list."""
    block = _section(cap).split("* default object", 1)[0]
    found: list[tuple[str, str, list[str]]] = []
    for line in block.splitlines():
        widget = re.match(rf"^> - (.+) ({WIDGETS})$", line)
        choice = re.match(r"^>   \* (.+)$", line)
        if widget:
            found.append((_unescape(widget[1]), widget[2], []))
        elif choice and found:
            found[-1][2].append(_unescape(choice[1]))
    return found


def documented_outputs(cap: str) -> list[tuple[str, str]]:
    """(dotted path, type) for each field of the doc's `output object` tree."""
    block = _section(cap).split("- output object", 1)[1].split("Output Example", 1)[0]
    stack: list[str] = []
    found = []
    for indent, name, typ in re.findall(r"^>( +)\* (\S+) (\w+)", block, flags=re.M):
        depth = (len(indent) - 3) // 2
        stack[depth:] = [_unescape(name)]
        found.append((".".join(stack), typ))
    return found


def documented_example(cap: str) -> dict[str, Any] | None:
    match = re.search(r"Output Example\n>\n> ```json\n(.*?)\n> ```", _section(cap), flags=re.S)
    if match is None:
        return None
    text = "\n".join(line[2:] for line in match[1].splitlines())
    loaded: dict[str, Any] = json.loads(text)
    return loaded


# ------------------------------------------------------------------ the schema files


@cache
def _load(name: str) -> dict[str, Any]:
    with (SCHEMAS / name).open(encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


def input_schema(cap: str) -> dict[str, Any]:
    return _load(f"{cap}.input.json")


def output_schema(cap: str) -> dict[str, Any]:
    return _load(f"{cap}.output.json")


def _types(schema: dict[str, Any]) -> set[str]:
    if "type" in schema:
        typ = schema["type"]
        return {typ} if isinstance(typ, str) else set(typ)
    return {t for branch in schema.get("anyOf", []) for t in _types(branch)}


def _resolve(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The sub-schema at a dotted path (`*` = any item or key), or None."""
    node: dict[str, Any] | None = schema
    for part in path.split("."):
        if node is None:
            return None
        if part == "*":
            node = node.get("items") or next(iter(node.get("properties", {}).values()), None)
        else:
            node = node.get("properties", {}).get(part)
    return node


CAPABILITIES = sorted(documented_capabilities())


# ------------------------------------------------------------------ the tests


def test_front_matter_and_headings_list_the_same_capabilities() -> None:
    assert list(documented_capabilities().values()) == capability_headings()
    assert len(CAPABILITIES) >= 19


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_every_documented_capability_has_a_schema_pair(cap: str) -> None:
    for suffix in ("input", "output"):
        path = SCHEMAS / f"{cap}.{suffix}.json"
        assert path.is_file(), f"capability {cap!r} of the reference doc has no {path.name}"


def test_no_schema_for_an_undocumented_capability() -> None:
    names = {p.name.split(".")[0] for p in SCHEMAS.glob("*.*.json")}
    assert names == set(CAPABILITIES)
    assert {p.name for p in SCHEMAS.glob("*.json")} - {
        f"{c}.{s}.json" for c in CAPABILITIES for s in ("input", "output")
    } == {"settings.json"}


@pytest.mark.parametrize("name", sorted(p.name for p in SCHEMAS.glob("*.json")))
def test_every_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = _load(name)
    assert schema["$schema"] == DRAFT
    jsonschema.Draft202012Validator.check_schema(schema)
    CompiledSchema(schema, name=name)  # jsonschema-rs compiles it too


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_documented_input_fields_have_their_type_and_constraints(cap: str) -> None:
    schema = input_schema(cap)
    documented = documented_inputs(cap)
    assert documented, f"no `properties object` block parsed for {cap}"
    if cap == "identityRecordMatching":  # exactly the doc's schema, no undocumented field
        assert set(schema["properties"]) == set(documented) == {"userId", "biographic"}
    for name, doc in documented.items():
        prop = schema["properties"].get(name)
        assert prop is not None, f"{cap}: documented input {name!r} missing from the schema"
        assert doc["type"] in _types(prop), f"{cap}.{name}: doc type {doc['type']}"
        assert (name in schema["required"]) == doc["required"], f"{cap}.{name}: required"
        for key in ("minLength", "maxLength", "minimum", "maximum", "uniqueItems"):
            if key in doc:
                assert prop.get(key) == doc[key], f"{cap}.{name}: {key} should be {doc[key]}"


NOT_INPUTS = {
    # The doc's input schema has `userId` and `biographic` ("Probe Biographic Info") only: the
    # gallery list of the properties is no input; the connector reads the gallery from the
    # PingOne user record (docs/assumptions.md, identityRecordMatching).
    ("identityRecordMatching", "Biographic Fields"),
}
"""Properties the doc shows whose value its input schema block has no field for."""


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_documented_properties_appear_with_their_choices(cap: str) -> None:
    props = input_schema(cap)["properties"]
    by_title = {p.get("title"): p for p in props.values()}
    for label, widget, choices in documented_widgets(cap):
        prop = by_title.get(label)
        if (cap, label) in NOT_INPUTS:
            assert prop is None, f"{cap}: {label!r} is listed as no input but has a property"
            continue
        assert prop is not None, f"{cap}: field labelled {label!r} ({widget}) has no property"
        assert prop.get("x-davinci-component") == widget
        for choice in choices:
            _assert_choice_accepted(cap, label, prop, choice)


def _accepted_values(prop: dict[str, Any]) -> list[Any]:
    items = prop.get("items", {})
    names = items.get("properties", {}).get("name", {})
    return [
        *prop.get("enum", []),
        *prop.get("examples", []),
        *items.get("enum", []),
        *names.get("enum", []),
    ]


def _assert_choice_accepted(cap: str, label: str, prop: dict[str, Any], choice: str) -> None:
    is_default = choice.endswith(" (Default)")
    value = choice.removesuffix(" (Default)")
    accepted = _accepted_values(prop)
    assert value in accepted or STORED_VALUES.get(value) in accepted, (
        f"{cap}: choice {value!r} of {label!r} is not accepted"
    )
    if is_default:
        assert prop.get("default") in (value, STORED_VALUES.get(value)), f"{cap}: {label} default"


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_documented_output_fields_have_their_type(cap: str) -> None:
    schema = output_schema(cap)
    for path, typ in documented_outputs(cap):
        sub = _resolve(schema, path)
        assert sub is not None, f"{cap}: documented output {path!r} missing from the schema"
        if (cap, path.rsplit(".", 1)[-1]) in KNOWN_TYPE_SLIPS:
            continue
        assert typ in _types(sub), f"{cap}: output {path} should accept {typ}, has {sub}"


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_outputs_stay_open_for_fields_the_api_adds(cap: str) -> None:
    schema = output_schema(cap)
    for name, prop in schema["properties"].items():
        assert prop.get("additionalProperties") is not False, f"{cap}.{name} is closed"
    assert schema.get("additionalProperties") is not False


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_personal_data_paths_name_real_fields(cap: str) -> None:
    out, inp = output_schema(cap), input_schema(cap)
    assert isinstance(out["x-personal-data"], list)
    for path in out["x-personal-data"]:
        assert _resolve(out, path) is not None, f"{cap}: personal path {path!r} resolves nowhere"
    for path in inp["x-personal-data"]:
        assert _resolve(inp, path) is not None, f"{cap}: input personal path {path!r}"


def test_personal_data_covers_what_identifies_a_person() -> None:
    assert "userData.verifiedUserData" in output_schema("readUserData")["x-personal-data"]
    assert "rawResponse.verifiedUserData" in output_schema("readUserData")["x-personal-data"]
    assert "biographic" in input_schema("createVerifyTransaction")["x-personal-data"]
    gov = output_schema("readGovernmentID")["x-personal-data"]
    assert "governmentID._embedded.verifiedData.*.data" in gov


# ------------------------------------------------------------------ the Output Examples

EXAMPLE_CAPS = [c for c in CAPABILITIES if documented_example(c) is not None]
STATUS_CODES = {"createVerifyTransaction": 201}


def _normalised_example(cap: str, example: dict[str, Any]) -> dict[str, Any]:
    """The example as the schema (not the example) shapes it: the body under both keys."""
    body = example["rawResponse"]["transaction"]
    output = {
        output_schema(cap)["x-output-key"]: body,
        "rawResponse": body,
        "headers": {"content-type": "application/json"},
        "statusCode": STATUS_CODES.get(cap, 200),
    }
    if cap == "createVerifyTransaction":
        output["challenge"] = "a-random-challenge"
    return output


def test_the_documented_examples_were_found() -> None:
    assert set(EXAMPLE_CAPS) >= {"createVerifyTransaction", "readVerifyTransaction"}


@pytest.mark.parametrize("cap", EXAMPLE_CAPS)
def test_output_example_validates(cap: str) -> None:
    example = documented_example(cap)
    assert example is not None
    schema = output_schema(cap)
    compiled = CompiledSchema(schema, name=cap)
    # The example's rawResponse, nesting included, is accepted as documented ...
    CompiledSchema(schema["properties"]["rawResponse"]).validate(example["rawResponse"])
    # ... and the output the schema describes, built from the example's body, validates.
    compiled.validate(_normalised_example(cap, example))
    # The bare example lacks the schema's <key>, headers and statusCode: the contradiction.
    assert not compiled.is_valid(example)


# ------------------------------------------------------------------ catching real mistakes

GOOD_CREATE = {
    "userId": "5f8f2a0e-1d1b-4b5e-9d0f-2b1f3f6d9a11",
    "deviceOsType": "Mobile Web",
    "verifyPolicy": "useVerifyPolicyId",
    "verifyPolicyId": "a661f3bf-0e7b-45aa-a9db-6fc926ccacd3",
    "notifyEmail": "ada@example.com",
    "verifyEmail": ["ada@example.com"],
    "verifyPhone": ["+15125550100"],
    "biographic": [
        {"name": "given_name", "value": "Ada"},
        {"name": "birth_date", "value": "1990-12-10"},
    ],
    "challenge": "c-123",
    "redirectUri": "https://app.example.com/done",
    "redirectMessage": "Back to the app",
}


def _input_valid(cap: str, value: dict[str, Any]) -> bool:
    return CompiledSchema(input_schema(cap)).is_valid(value)


def test_a_full_create_input_is_accepted() -> None:
    assert _input_valid("createVerifyTransaction", GOOD_CREATE)
    stored = {**GOOD_CREATE, "deviceOsType": "mobile_web", "verifyPolicy": "Use Verify Policy ID"}
    assert _input_valid("createVerifyTransaction", stored)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"userID": "x"}, "misspelt field"),
        ({"deviceOsType": "Android phone"}, "not a documented choice"),
        ({"biographic": [{"name": "firstName", "value": "Ada"}]}, "unknown biographic name"),
        ({"biographic": [{"name": "given_name"}]}, "biographic item without a value"),
        ({"verifyEmail": ["a@example.com", "a@example.com"]}, "uniqueItems"),
        ({"challenge": ""}, "challenge minLength 1"),
        ({"challenge": "c" * 101}, "challenge maxLength 100"),
        ({"userId": "u" * 101}, "userId maxLength 100"),
        ({"redirectUri": "http://app.example.com"}, "only https redirects"),
        ({"redirectMessage": "m" * 257}, "redirect message limited to 256"),
    ],
)
def test_create_input_mistakes_are_rejected(change: dict[str, Any], why: str) -> None:
    assert not _input_valid("createVerifyTransaction", {**GOOD_CREATE, **change}), why


def test_required_inputs_are_required() -> None:
    assert not _input_valid("createVerifyTransaction", {"userId": "u"})
    assert not _input_valid("readVerifyTransaction", {"userId": "u"})
    assert _input_valid("readVerifyTransaction", {"userId": "u", "transactionId": "t"})


@pytest.mark.parametrize(
    ("cap", "value", "ok"),
    [
        ("backgroundReplacer", {"aspectWidth": 1000, "aspectHeight": 1}, True),
        ("backgroundReplacer", {"aspectWidth": 1001}, False),
        ("backgroundReplacer", {"aspectHeight": 0}, False),
        ("backgroundReplacer", {"colorPicker": "#00ff7F"}, True),
        ("backgroundReplacer", {"colorPicker": "fff"}, True),
        ("backgroundReplacer", {"colorPicker": "green"}, False),
        (
            "readVerifiedData",
            {"attempt": "LATEST", "verifiedType": ["GOVERNMENT_ID", "Selfie"]},
            True,
        ),
        ("readVerifiedData", {"attempt": 2}, True),
        ("readVerifiedData", {"attempt": 5}, False),
        ("readVerifiedData", {"verifiedType": ["Passport"]}, False),
        ("readMetaData", {"metadataType": "ALL"}, True),
        ("readMetaData", {"metadataType": "BIOGRAPHIC_MATCH"}, True),
        ("readMetaData", {"metadataType": "biometrics"}, False),
        ("readDocuments", {"documentTypes": ["Selfie", "Passport Front"]}, True),
        ("readDocuments", {"documentTypes": ["SELFIE"]}, False),
    ],
)
def test_constrained_inputs(cap: str, value: dict[str, Any], ok: bool) -> None:
    assert _input_valid(cap, {"userId": "u", "transactionId": "t", **value}) is ok


def test_create_document_input() -> None:
    base = {"userId": "u", "transactionId": "t", "documentValue": "/9j/4AAQ"}
    assert _input_valid(
        "createDocument", {**base, "documentTypeName": "Voice Sample", "voiceSampleIndex": 1}
    )
    assert not _input_valid(
        "createDocument", {**base, "documentTypeName": "Voice Sample", "voiceSampleIndex": 0}
    )
    assert not _input_valid("createDocument", {**base, "documentTypeName": "DRIVER_LICENSE_FRONT"})
    assert (
        input_schema("createDocument")["properties"]["documentTypeName"]["default"]
        == "Driver License Front"
    )


def test_policy_and_status_dropdown_defaults() -> None:
    policy = input_schema("readVerifyPolicy")["properties"]["verifyPolicySelect"]
    assert policy["default"] == "useVerifyPolicyId"
    assert _input_valid("readVerifyPolicy", {"verifyPolicySelect": "Use Verify Policy ID"})
    assert _input_valid("readVerifyPolicy", {"verifyPolicySelect": "My policy"})
    status = input_schema("setVerifyStatus")["properties"]["verifyStatus"]
    assert (status["default"], status["enum"]) == (
        "ENABLED",
        ["ENABLED", "DISABLED", "NOT_INITIATED"],
    )
    assert not _input_valid("setVerifyStatus", {"userId": "u", "verifyStatus": "enabled"})


def _good_read_output() -> dict[str, Any]:
    example = documented_example("readVerifyTransaction")
    assert example is not None
    return _normalised_example("readVerifyTransaction", example)


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (("statusCode",), "200"),
        (("headers",), {"content-type": ["application/json"]}),
        (("transaction", "id"), 42),
        (("transaction", "createdAt"), "yesterday"),
        (("transaction", "transactionStatus"), "SUCCESS"),
        (("rawResponse", "qrUrl"), 7),
    ],
)
def test_output_mistakes_are_rejected(path: tuple[str, ...], bad: Any) -> None:
    output = json.loads(json.dumps(_good_read_output()))
    target = output
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = bad
    assert not CompiledSchema(output_schema("readVerifyTransaction")).is_valid(output)


def test_output_key_missing_is_rejected() -> None:
    output = _good_read_output()
    del output["transaction"]
    assert not CompiledSchema(output_schema("readVerifyTransaction")).is_valid(output)


def test_outputs_accept_fields_the_api_adds() -> None:
    output = _good_read_output()
    output["transaction"] = {**output["transaction"], "_links": {"self": {"href": "x"}}, "extra": 1}
    assert CompiledSchema(output_schema("readVerifyTransaction")).is_valid(output)


def test_external_client_response_needs_no_api_fields() -> None:
    schema = CompiledSchema(output_schema("createExtClientResponse"))
    value = {"clientState": "s", "webVerificationUrl": "https://v.example/x", "challenge": "c"}
    assert schema.is_valid(value)
    assert schema.is_valid({**value, "continueLink": "https://flow.example/continue"})
    assert not schema.is_valid({"webVerificationUrl": "https://v.example/x", "challenge": "c"})


# ------------------------------------------------------------------ connection settings

SETTINGS_OK = {
    "environment_id": "sandbox-env",
    "client_id": "c",
    "client_secret": "s",
    "region": "sandbox",
}


def _settings_valid(value: dict[str, Any]) -> bool:
    return CompiledSchema(_load("settings.json")).is_valid(value)


@pytest.mark.parametrize("region", ["NA", "EU", "CA", "AU", "SG", "AP", "sandbox"])
def test_settings_accept_every_region(region: str) -> None:
    assert _settings_valid({**SETTINGS_OK, "region": region})


@pytest.mark.parametrize(
    "change",
    [
        {"region": "US"},
        {"region": "eu"},
        {"clientSecret": "s"},
        {"api_url": "api.example.com/v1"},
        {"environment_id": ""},
    ],
)
def test_settings_mistakes_are_rejected(change: dict[str, Any]) -> None:
    assert not _settings_valid({**SETTINGS_OK, **change})


def test_settings_overrides_and_secret() -> None:
    urls = {"api_url": "http://127.0.0.1:8081/v1", "auth_url": "https://auth.example.com"}
    assert _settings_valid({**SETTINGS_OK, **urls})
    props = _load("settings.json")["properties"]
    assert props["client_secret"]["writeOnly"] is True
    assert "default" not in props["region"]  # the flow file chooses: ${PINGONE_REGION:-sandbox}
    for key in ("environment_id", "client_id", "client_secret", "region"):
        assert not _settings_valid({k: v for k, v in SETTINGS_OK.items() if k != key})


# ------------------------------------------------------------------ the user documentation

USER_DOC = REPO / "docs" / "connectors" / "pingone_verify.md"


@pytest.mark.parametrize("cap", CAPABILITIES)
def test_every_capability_and_input_is_documented(cap: str) -> None:
    text = USER_DOC.read_text(encoding="utf-8")
    assert f"### `{cap}`" in text, f"{cap} has no section in {USER_DOC.name}"
    section = text.split(f"### `{cap}`", 1)[1].split("\n### ", 1)[0]
    for name in input_schema(cap)["properties"]:
        assert f"`{name}`" in section, f"{cap}: input {name!r} is not documented"
    assert "**Outcomes:**" in section


def test_user_doc_explains_branching_on_status() -> None:
    text = USER_DOC.read_text(encoding="utf-8")
    assert "## Branching on a transaction's status" in text
    assert "use: functions.switch" in text
    assert "cases: {SUCCESS: Success, FAIL: Fail}" in text

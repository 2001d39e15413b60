"""Which setting values are secrets, and the fast secret scan that guards every redaction."""

from __future__ import annotations

import datetime
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
from runtime_support import load
from store_files import stored_text

from flowengine import CallContext, Connector, Engine, Registry, SQLiteStore, VirtualClock

# private: tests the redaction helpers themselves
from flowengine._redaction import REDACTED, Secrets, redact

# private: tests the connection pool's secret rule directly
from flowengine._running.pool import MIN_ENV_SECRET_LENGTH, setting_secrets

SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "region": {"type": "string", "enum": ["EU", "NA", "sandbox"]},
        "tenant": {"type": "string"},
        "api_url": {"type": "string", "x-secret": False},
        "client_secret": {"type": "string"},
        "api_key": {"type": "string", "writeOnly": True},
    },
}


def make_registry() -> Registry:
    """A `k` connector whose `echo` returns its settings inside text and URLs."""
    connector = Connector(
        name="k", settings_schema=SETTINGS_SCHEMA, secret_settings=("client_secret",)
    )

    @connector.capability(input_schema={"type": "object"}, output_schema={"type": "object"})
    def echo(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
        s = ctx.settings
        return {
            "url": f"https://{s.get('region')}.example.com/{s.get('tenant')}/sandbox-docs",
            "said": f"secret={s.get('client_secret')} key={s.get('api_key')}",
            "api": s.get("api_url"),
        }

    registry = Registry()
    registry.add_connector(connector, "test")
    return registry


FLOW = """
flow: regions
connections:
  k:
    connector: k
    settings:
      region: ${REGION}
      tenant: ${TENANT}
      api_url: ${API_URL:-https://api.example.com/v1}
      client_secret: ${CLIENT_SECRET:-default-secret-1}
      api_key: ${API_KEY:-k1}
start: a
nodes:
  a: {use: k.echo}
"""


async def _run(tmp_path: Path, environ: dict[str, str]) -> tuple[Any, str]:
    registry = make_registry()
    db = tmp_path / "runs.db"
    async with Engine(registry, store=SQLiteStore(db), clock=VirtualClock(), environ=environ) as e:
        run = await e.start(load(tmp_path, FLOW, registry))
    assert run.status == "completed", run.error
    return run, stored_text(db)


async def test_short_env_values_and_enum_values_are_not_redacted(tmp_path: Path) -> None:
    environ = {"REGION": "EU", "TENANT": "sandbox", "CLIENT_SECRET": "s3cr3t-from-env"}
    run, stored = await _run(tmp_path, environ)
    output = run.trace[0]["output"]
    assert output["url"] == "https://EU.example.com/sandbox/sandbox-docs"
    assert output["said"] == f"secret={REDACTED} key={REDACTED}"  # both secret settings
    assert "s3cr3t-from-env" not in stored and "s3cr3t-from-env" not in json.dumps(run.trace)
    assert "https://EU.example.com/sandbox/sandbox-docs" in stored


async def test_secret_setting_written_as_a_default_is_redacted(tmp_path: Path) -> None:
    run, stored = await _run(tmp_path, {"REGION": "NA", "TENANT": "acme"})
    assert run.trace[0]["output"]["said"] == f"secret={REDACTED} key={REDACTED}"
    assert run.nodes["a"]["output"]["said"] == "secret=default-secret-1 key=k1"  # live run
    assert "default-secret-1" not in stored


async def test_long_env_value_in_an_undeclared_setting_is_a_secret(tmp_path: Path) -> None:
    tenant = "tenant-" + "x" * MIN_ENV_SECRET_LENGTH
    api = "https://api.internal.example/v1"
    environ = {"REGION": "sandbox", "TENANT": tenant, "API_URL": api}
    run, stored = await _run(tmp_path, environ)
    output = run.trace[0]["output"]
    assert output["url"] == f"https://sandbox.example.com/{REDACTED}/sandbox-docs"
    assert output["api"] == api  # declared x-secret: false
    assert tenant not in stored


async def test_enum_setting_holding_a_non_member_stays_secret(tmp_path: Path) -> None:
    # A swapped variable: the secret lands in `region`, fails validation, is not echoed.
    environ = {"REGION": "swapped-secret-value", "TENANT": "acme"}
    registry = make_registry()
    async with Engine(registry, clock=VirtualClock(), environ=environ) as engine:
        run = await engine.start(load(tmp_path, FLOW, registry))
    assert run.status == "failed"
    assert "swapped-secret-value" not in json.dumps(run.to_dict())
    assert run.error["message"] == (  # type: ignore[index]
        "Connection 'k' settings invalid at $.region: a string of 20 characters is not one of "
        "['EU', 'NA', 'sandbox'] (the value comes from $REGION)"
    )


def test_setting_secrets_rule() -> None:
    connector = make_registry().connectors["k"]
    settings = {"region": "EU", "tenant": "t", "client_secret": "c", "api_key": "", "x": "y" * 8}
    reads = {"region": {"EU"}, "tenant": {"t"}, "client_secret": {"c"}, "x": {"y" * 8}}
    # client_secret: a secret setting, however short; api_key: empty; x: undeclared, long
    assert setting_secrets(connector, settings, reads) == {"c", "y" * 8}
    assert setting_secrets(connector, {"tenant": "short"}, {"tenant": {"short"}}) == set()


@pytest.mark.parametrize(
    "value",
    [
        {"a": ["x", {"b": "..s3cr3t.."}]},
        ("s3cr3t",),
        OrderedDict(a="s3cr3t"),  # a Mapping marshal refuses: pickle scans it
        {"when": datetime.date(2020, 1, 1), "who": "s3cr3t"},
        {"k": {1, 2}, "v": ["über s3cr3t"]},
        {"f": lambda: None, "v": "s3cr3t"},  # neither marshal nor pickle: the walk decides
    ],
)
def test_scan_finds_secrets_in_any_shape(value: Any) -> None:
    secrets = Secrets({"s3cr3t"})
    assert secrets.scan(value)
    assert "s3cr3t" not in repr(secrets.redact(value))


def test_scan_handles_escapes_and_non_ascii() -> None:
    for secret in ('quo"te\\back', "naïve-☃-secret", "tab\tnew\nline"):
        secrets = Secrets({secret})
        assert secrets.scan({"deep": [f"<{secret}>"]})
        assert redact({"deep": [f"<{secret}>"]}, secrets) == {"deep": [f"<{REDACTED}>"]}
        assert not secrets.scan({"deep": ["nothing"], "n": 1})


def test_clean_value_is_returned_as_is() -> None:
    value = {"a": [1, 2.5, None, True, "text"]}
    assert Secrets({"s3cr3t"}).redact(value) is value
    assert redact(value, {"s3cr3t"}) is value


def test_secrets_repr_never_shows_values() -> None:
    assert "s3cr3t" not in repr(Secrets({"s3cr3t"}))


PINGONE_FLOW = """
flow: region-from-env
connections:
  p1:
    connector: pingone
    settings:
      environment_id: ${PINGONE_ENVIRONMENT_ID:-env-regions}
      client_id: ${PINGONE_CLIENT_ID:-sandbox-client}
      client_secret: ${PINGONE_CLIENT_SECRET}
      region: ${PINGONE_REGION}
start: create
nodes:
  create: {use: p1.createUser, with: {username: region-user}}
"""


async def test_pingone_public_settings_from_env_stay_readable(tmp_path: Path) -> None:
    from flowengine_connectors.pingone_sandbox import Sandbox, use_sandbox

    from flowengine import load_registry

    registry = load_registry()
    environ = {
        "PINGONE_REGION": "sandbox",
        "PINGONE_CLIENT_SECRET": "sandbox-secret",
        "PINGONE_ENVIRONMENT_ID": "env-from-the-environment",  # long, but x-secret: false
    }
    db = tmp_path / "runs.db"
    sandbox = Sandbox()
    try:
        with use_sandbox(sandbox):
            engine = Engine(registry, store=SQLiteStore(db), clock=VirtualClock(), environ=environ)
            async with engine:
                run = await engine.start(load(tmp_path, PINGONE_FLOW, registry))
    finally:
        sandbox.close()
    assert run.status == "completed", run.error
    trace_text, stored = json.dumps(run.trace), stored_text(db)
    for text in (trace_text, stored):
        assert "sandbox-secret" not in text
        assert (
            "http://sandbox.pingone.local/v1/environments/env-from-the-environment/users/" in text
        )
        assert f"{REDACTED}.pingone" not in text  # before: "sandbox" was redacted in URLs

"""Typed secrets: every shipped flow with a password field, run through the CLI; no artefact
(the stored run in SQLite, the trace, --json, --trace JSONL, runs show, logs) holds a typed
password or a connection secret."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flowengine import load_flow, load_registry

# private: tests the CLI through its click group
from flowengine._cli import main

ROOT = Path(__file__).resolve().parents[2]
FLOWS = sorted((ROOT / "flows").rglob("*.yaml"))
_VAR = re.compile(r"\$\{[A-Z0-9_]+:-([^}]*)\}")


def _password_fields(flow: Any) -> dict[str, set[str]]:
    """node id -> the names of its form's password fields."""
    found: dict[str, set[str]] = {}
    for node in flow.all_nodes.values():
        fields = node.inputs.get("fields") if node.use == "ui.form" else None
        for field in fields or ():
            if isinstance(field, dict) and field.get("type") == "password":
                found.setdefault(node.id, set()).add(str(field["name"]))
    return found


def _typed(answers: Path, fields: dict[str, set[str]]) -> set[str]:
    import yaml

    data = yaml.safe_load(answers.read_text(encoding="utf-8")) or {}
    typed: set[str] = set()
    for node_id, names in fields.items():
        given = data.get(node_id)
        for response in given if isinstance(given, list) else [given]:
            if isinstance(response, dict):
                typed |= {str(response[n]) for n in names if response.get(n)}
    return typed


def _cases() -> list[tuple[Path, Path]]:
    registry = load_registry()
    cases = []
    for path in FLOWS:
        if path.parent.name != "flows" and path.parent.name != "examples":
            continue  # answers files live in flows/<flow>/
        fields = _password_fields(load_flow(path, registry))
        if fields:  # each answers file that types a password
            answers = sorted((path.parent / path.stem).glob("*.yaml"))
            cases += [(path, a) for a in answers if _typed(a, fields)]
    return cases


CASES = _cases()


def test_shipped_flows_have_password_fields() -> None:
    assert {flow.stem for flow, _ in CASES} >= {"form", "sign-in"}


def _connection_secrets(flow: Any) -> set[str]:
    registry = load_registry()
    found = set()
    for conn in flow.connections.values():
        secret = registry.connectors[conn.connector].secret_settings
        for name, value in conn.settings.items():
            match = _VAR.fullmatch(str(value))
            if name in secret and match and match.group(1):
                found.add(match.group(1))
    return found


@pytest.mark.parametrize(
    ("flow_file", "answers"), CASES, ids=[f"{f.stem}/{a.stem}" for f, a in CASES]
)
def test_no_artefact_holds_a_typed_password_or_a_connection_secret(
    flow_file: Path,
    answers: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for name in ("PINGONE_CLIENT_SECRET", "PINGONE_CLIENT_ID", "PINGONE_ENVIRONMENT_ID"):
        monkeypatch.delenv(name, raising=False)
    flow = load_flow(flow_file, load_registry())
    typed = _typed(answers, _password_fields(flow))
    secrets = typed | _connection_secrets(flow)
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    trace = tmp_path / "trace.jsonl"
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    common = ["--store", store, "--answers", str(answers)]
    as_json = runner.invoke(main, ["run", str(flow_file), *common, "--json", "--trace", str(trace)])
    text = runner.invoke(main, ["run", str(flow_file), *common, "--debug"])
    run = json.loads(as_json.output)
    shown = runner.invoke(main, ["runs", "show", run["id"], "--store", store, "--json"])
    shown_text = runner.invoke(main, ["runs", "show", run["id"], "--store", store])
    listed = runner.invoke(main, ["runs", "list", "--store", store, "--json"])
    with sqlite3.connect(tmp_path / "runs.db") as db:
        bodies = [row[0] for row in db.execute("SELECT body FROM runs")]
    assert len(bodies) == 2
    artefacts = {
        "--json": as_json.output + as_json.stderr,
        "terminal": text.output + text.stderr,
        "--trace": trace.read_text(encoding="utf-8"),
        "the stored runs": "\n".join(bodies),
        "runs show --json": shown.output,
        "runs show": shown_text.output,
        "runs list --json": listed.output,
        "logs": caplog.text,
        "the trace": json.dumps(run["trace"]),
    }
    for where, content in artefacts.items():
        for secret in secrets:
            assert secret not in content, f"{where} holds a secret ({len(secret)} characters)"
    assert "[REDACTED]" in artefacts["the stored runs"]  # the password was there, redacted
    assert run["status"] in ("completed", "failed")

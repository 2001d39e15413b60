"""Ping's own DaVinci client SDK (npm `@forgerock/davinci-client@2.1.0`, unmodified) drives a
flow on `flowengine serve`: the acceptance test of the pi.flow door.

Needs Node 20+ and npm (the packages are installed once per session from the pinned lock
file in davinci_sdk/); skipped, saying why, when either is missing or npm cannot install.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HARNESS = Path(__file__).resolve().parent / "davinci_sdk"


@pytest.fixture(scope="session")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("Node and npm are needed to run Ping's DaVinci client SDK")
    folder = tmp_path_factory.mktemp("davinci-sdk")
    for name in ("package.json", "package-lock.json", "drive.mjs"):
        shutil.copy(HARNESS / name, folder / name)
    installed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=folder, capture_output=True, text=True
    )
    if installed.returncode != 0:
        pytest.skip(f"npm ci failed (no registry?): {installed.stderr[-300:]}")
    return folder


def drive(sdk: Path, served: Any, scenario: str) -> dict[str, dict[str, Any]]:
    wellknown = f"{served.url}/{served.env}/as/.well-known/openid-configuration"
    result = subprocess.run(
        ["node", "drive.mjs", wellknown, scenario],
        cwd=sdk,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "done", result.stdout + result.stderr
    return {step["what"]: step for step in map(json.loads, lines[:-1])}


def test_the_sdk_drives_a_form_flow_to_tokens(sdk: Path, serve: Any) -> None:
    served = serve()
    steps = drive(sdk, served, "form")
    start = steps["start"]
    assert start["status"] == "continue"
    assert [(c["type"], c["key"]) for c in start["collectors"]] == [
        ("TextCollector", "given_name"),
        ("TextCollector", "email"),
        ("TextCollector", "age"),
        ("SingleSelectCollector", "plan"),
        ("PasswordCollector", "password"),
        ("SubmitCollector", "success"),
        ("FlowCollector", "cancel"),
    ]
    mistake = steps["mistake"]
    assert mistake["status"] == "error"  # recoverable: the form stays
    assert mistake["errorCollectors"] == [
        {"code": "INVALID_VALUE", "message": "Email is not an email address", "target": "email"}
    ]
    assert mistake["collectors"] == start["collectors"]
    welcome = steps["welcome"]
    assert welcome["status"] == "continue"
    assert [c["label"] for c in welcome["collectors"]][:2] == [
        "Welcome, Ada",
        "Your pro account is ready.",
    ]
    assert steps["success"]["status"] == "success"
    assert steps["success"]["authorization"]["code"]
    assert steps["tokens"] == {
        "what": "tokens",
        "hasAccessToken": True,
        "hasIdToken": True,
        "error": None,
    }


def test_the_sdk_presses_a_flow_button(sdk: Path, serve: Any) -> None:
    served = serve()
    cancel = drive(sdk, served, "cancel")["cancel"]
    assert cancel["status"] == "failure"
    assert cancel["error"]["code"] == "CANCELLED"
    assert cancel["error"]["message"] == "Sign-up cancelled."


POLLER = """
flow: poller
title: A QR code the flow checks three times
variables: {checks: 0}
start: show
nodes:
  show:
    use: ui.qr
    with: {url: "https://verify.example/scan?code=1", title: Scan me, poll_interval: 0.2}
    next: count
  count:
    use: variables.increment
    with: {name: checks}
    next: enough
  enough:
    use: functions.condition
    with: {expression: "{{ vars.checks < 3 }}"}
    on: {"true": show, "false": done}
  done:
    use: ui.success
    with: {result: {checks: "{{ vars.checks }}"}}
"""


def test_the_sdk_polls_a_qr_code_until_the_flow_moves_on(
    sdk: Path, serve: Any, tmp_path: Path
) -> None:
    flow = tmp_path / "poller.yaml"
    flow.write_text(POLLER)
    served = serve(str(flow))
    lines = subprocess.run(
        ["node", "drive.mjs", f"{served.url}/local/as/.well-known/openid-configuration", "poll"],
        cwd=sdk,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert lines.returncode == 0, lines.stderr
    steps = [json.loads(line) for line in lines.stdout.splitlines()[:-1]]
    start, polls, polled = steps[0], steps[1:-1], steps[-1]
    assert [c["type"] for c in start["collectors"]] == [
        "ReadOnlyCollector",
        "QrCodeCollector",
        "ReadOnlyCollector",
        "PollingCollector",
    ]
    # While the flow loops back to the QR code, the client stays on it with the same token.
    assert len(polls) >= 3 and all(p["pollStatus"] == "continue" for p in polls), polls
    assert all(p["status"] == "continue" for p in polls[:-1])
    assert {p["token"] for p in polls[:-1]} == {start["token"]}
    assert polled["status"] == "success" and polled["authorization"]["code"]
    assert polled["polls"] == len(polls)
    run = served.client.get(f"/api/runs/{polled['interactionId']}").json()
    assert run["status"] == "completed" and run["result"] == {"result": {"checks": 3}}

"""Ping's own DaVinci client SDK (npm `@forgerock/davinci-client@2.1.0`, unmodified) drives
flows on `flowengine serve`: the acceptance test of the pi.flow door.

The registration flow (flows/registration.yaml, the embedded sandbox served on the same port)
is driven to its three endings with the personas of flows/registration/: success, a failed
document authentication and a late scan. The phone is played from Python over HTTP on the
QR code's link while the client polls.

Needs Node 20 (18 with the harness's WebCrypto shim) and npm: the packages are installed once
per session from the pinned lock file in davinci_sdk/. Outside CI the tests skip, saying why,
when either is missing or npm cannot install; under CI (`CI` set) they fail instead.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml
from served import REGISTRATION_FLOW, ROOT, Served

from flowengine import Engine, load_registry, open_store

# private: the server's parts are built here the way `flowengine serve` builds them
from flowengine._serving.app import FlowServer, plugin_web_apps

# private: the development default config, as `flowengine serve` uses it without --config
from flowengine._serving.config import dev_config

# private: the flows loaded and checked as `flowengine serve` does at start
from flowengine._serving.flows import load_served_flows

HARNESS = Path(__file__).resolve().parent / "davinci_sdk"
PERSONAS = ROOT / "flows" / "registration"


def unavailable(reason: str) -> NoReturn:
    """Skip outside CI; under CI the SDK tests must run, so say why they cannot."""
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but Ping's DaVinci client SDK cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        unavailable("Node and npm are needed to run Ping's DaVinci client SDK")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    major = version.strip().lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < 18:
        unavailable(f"Node 18 or later is needed to run the SDK, found {version.strip()!r}")
    folder = tmp_path_factory.mktemp("davinci-sdk")
    for name in ("package.json", "package-lock.json", "drive.mjs"):
        shutil.copy(HARNESS / name, folder / name)
    try:
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except subprocess.TimeoutExpired:
        unavailable("npm ci took more than 300 s (no registry?)")
    if installed.returncode != 0:
        unavailable(f"npm ci failed (no registry?): {installed.stderr[-300:]}")
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


# --- The registration flow's three endings ------------------------------------------------


def persona_file(name: str) -> tuple[dict[str, str], int, str]:
    """(the form's values, how many polls the phone waits, the persona) from an answers file."""
    answers = yaml.safe_load((PERSONAS / f"{name}.yaml").read_text())
    *waits, phone = answers["show_qr_code"]
    assert all(w is None for w in waits) and phone["do"] == "phone"
    return answers["get_user_details"], len(waits), phone["persona"]


class Registration:
    """One run of the registration flow driven by the SDK in Node, the phone played here.

    At each QR code the harness waits for "poll" on stdin: after `waits` polls with nobody
    scanning, the phone submits the persona's documents over HTTP, then the client polls on.
    """

    def __init__(self, served: Served, answers: str, phone: Any) -> None:
        self.served = served
        self.phone = phone  # the sandbox's Phone: its documents over HTTP on the link
        self.values, self.waits, self.persona = persona_file(answers)
        self.steps: list[dict[str, Any]] = []
        self.runs: list[dict[str, Any]] = []  # the run over the plain API at each QR code

    def __call__(self, sdk: Path) -> Registration:
        wellknown = f"{self.served.url}/{self.served.env}/as/.well-known/openid-configuration"
        values = {**{"username": ""}, **self.values}
        with subprocess.Popen(
            ["node", "drive.mjs", wellknown, "registration", json.dumps(values)],
            cwd=sdk,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as node:
            watchdog = threading.Timer(120, node.kill)
            watchdog.start()
            try:
                self.talk(node)
            finally:
                watchdog.cancel()
                node.kill()
        return self

    def talk(self, node: subprocess.Popen[str]) -> None:
        """Read the harness's steps; at each QR code maybe play the phone, then say "poll"."""
        assert node.stdout and node.stdin and node.stderr
        line = ""
        for line in node.stdout:
            if line.strip() == "done":
                break
            step = json.loads(line)
            self.steps.append(step)
            if step["what"] in ("qr", "poll") and any(
                c["type"] == "PollingCollector" for c in step["collectors"]
            ):
                self.runs.append(self.run(step["interactionId"]))
                if len(self.runs) == self.waits + 1:
                    link = self.qr_link(step)
                    asyncio.run(self.phone().persona(link, self.persona))
                node.stdin.write("poll\n")
                node.stdin.flush()
        node.stdin.close()
        stderr = node.stderr.read()
        assert node.wait() == 0, stderr
        assert line.strip() == "done", stderr

    def run(self, run_id: str) -> dict[str, Any]:
        return dict(self.served.client.get(f"/api/runs/{run_id}").json())

    @staticmethod
    def qr_link(step: dict[str, Any]) -> str:
        [qr] = [c for c in step["collectors"] if c["type"] == "QrCodeCollector"]
        return str(qr["label"])

    def step(self, what: str) -> dict[str, Any]:
        return next(s for s in self.steps if s["what"] == what)


ENDINGS = ("success", "document-authentication-failure", "late-scan")


@pytest.fixture(scope="module", autouse=True)
def registrations(sdk: Path) -> Iterator[dict[str, Future[Registration]]]:
    """The three endings, driven at once on one server: each QR poll waits 5 real seconds,
    so they start with the module and run while its other tests do."""
    try:
        sandbox = importlib.import_module("flowengine_connectors.pingone_sandbox")
    except ImportError:
        yield {}  # the registration tests skip, saying why
        return
    with sandbox.use_sandbox(sandbox.Sandbox()):
        registry = load_registry()
        flows = load_served_flows([REGISTRATION_FLOW], registry)
        store = open_store("memory:")
        server = FlowServer(
            flows,
            dev_config(),
            store,
            engine=Engine(registry, store=store),
            web_apps=plugin_web_apps(flows),
        )
        with Served(server, None) as served, ThreadPoolExecutor(len(ENDINGS)) as pool:
            yield {
                name: pool.submit(Registration(served, name, sandbox.Phone), sdk)
                for name in ENDINGS
            }


FORM = [
    ("ReadOnlyCollector", "Create your account"),
    ("ReadOnlyCollector", "We will verify your identity with a government ID and a selfie."),
    ("TextCollector", "given_name"),
    ("TextCollector", "family_name"),
    ("TextCollector", "email"),
    ("TextCollector", "birthdate"),
    ("TextCollector", "username"),
    ("SubmitCollector", "success"),
]

QR_SCREEN = [
    "ReadOnlyCollector",
    "ReadOnlyCollector",
    "QrCodeCollector",
    "ReadOnlyCollector",
    "PollingCollector",
]


def ending(registrations: dict[str, Future[Registration]], name: str) -> Registration:
    if name not in registrations:
        pytest.skip("the registration flow needs the embedded sandbox: pip install '.[sandbox]'")
    return registrations[name].result()


def types(step: dict[str, Any]) -> list[str]:
    return [c["type"] for c in step["collectors"]]


def check_form_and_qr(driven: Registration) -> dict[str, Any]:
    """The form the SDK rendered, and the QR code it reached: the QR step."""
    start = driven.step("start")
    assert start["status"] == "continue"
    assert [(c["type"], c["key"], c["label"]) for c in start["collectors"]] == [
        ("TextCollector", "given_name", "Given name"),
        ("TextCollector", "family_name", "Family name"),
        ("TextCollector", "email", "Email"),
        ("TextCollector", "birthdate", "Birthdate (YYYY-MM-DD)"),
        ("TextCollector", "username", "Username (defaults to your email)"),
        ("SubmitCollector", "success", "Continue"),
    ]
    qr = driven.step("qr")
    assert qr["status"] == "continue" and qr["name"] == "Verify your identity"
    assert types(qr) == QR_SCREEN
    title, message, code, link_label, polling = qr["collectors"]
    assert title["content"] == "Verify your identity"
    assert message["content"].startswith("Scan this QR code with your phone")
    link = code["label"]
    # The link points at the served sandbox, on the flow API's own port.
    assert link.startswith(f"{driven.served.url}/verify-webapp/index.html?txnid=")
    assert code["src"].startswith("data:image/png;base64,")
    assert link_label["content"] == link
    assert polling["config"]["pollInterval"] == 5000 and polling["config"]["pollRetries"] > 0
    assert driven.runs[0]["pending"]["node"] == "show_qr_code"
    assert driven.runs[0]["pending"]["data"]["url"] == link
    return qr


def check_results(step: dict[str, Any], status: str) -> str:
    """Display User Data as the SDK rendered it: its title, message and Continue; the message."""
    assert step["what"] == "poll" and step["status"] == "continue"
    assert step["name"] == f"Identity verification: {status}"
    assert [(c["type"], c["key"]) for c in step["collectors"]] == [
        ("ReadOnlyCollector", "LABEL-0"),
        ("ReadOnlyCollector", "LABEL-1"),
        ("SubmitCollector", "success"),
    ]
    message = str(step["collectors"][1]["content"])
    assert "firstName JOHN, lastName DOE, birthDate 1985-04-01" in message
    assert "Biographic match: given_name HIGH, family_name HIGH, birth_date HIGH" in message
    return message


def check_success(driven: Registration, run_id: str) -> None:
    end = driven.step("end")
    assert end["status"] == "success" and end["collectors"] == [] and end["error"] is None
    assert end["authorization"]["code"] and end["authorization"]["state"]
    tokens = driven.step("tokens")
    assert tokens["error"] is None and tokens["hasAccessToken"] and tokens["hasIdToken"]
    assert tokens["claims"]["sub"] == run_id and tokens["claims"]["acr"] == "registration"
    assert tokens["claims"]["aud"] == "flowengine-dev"
    run = driven.run(run_id)
    assert run["status"] == "completed" and run["pending"] is None
    result = run["result"]["result"]
    assert result["status"] == "VERIFIED"
    assert result["verifiedData"]["firstName"] == "JOHN"
    assert result["biographicMatch"] == {
        "given_name": "HIGH",
        "family_name": "HIGH",
        "birth_date": "HIGH",
    }
    assert "sandbox-secret" not in json.dumps(driven.steps) + json.dumps(run)


def test_the_sdk_registers_john_with_his_phone_to_tokens(
    registrations: dict[str, Future[Registration]],
) -> None:
    driven = ending(registrations, "success")
    assert (driven.persona, driven.waits) == ("success", 0)
    qr = check_form_and_qr(driven)
    # The phone submitted before the first poll: one poll reaches the results.
    [results] = [s for s in driven.steps if s["what"] == "poll"]
    assert results["token"] != qr["token"]  # a new screen, a new token
    message = check_results(results, "SUCCESS")
    assert "Checks: DOCUMENT_AUTHENTICATION SUCCESS" in message
    assert message.endswith("Reasons: none")
    check_success(driven, qr["interactionId"])


def test_the_sdk_sees_the_document_authentication_failure(
    registrations: dict[str, Future[Registration]],
) -> None:
    driven = ending(registrations, "document-authentication-failure")
    assert (driven.persona, driven.waits) == ("expired_id", 0)
    qr = check_form_and_qr(driven)
    [results] = [s for s in driven.steps if s["what"] == "poll"]
    message = check_results(results, "FAIL")
    assert "expirationDate 2024-03-31" in message
    assert "Checks: DOCUMENT_AUTHENTICATION FAIL" in message
    assert message.endswith("Reasons: government ID expired on 2024-03-31")
    # The flow's error response, as the protocol's failure: the SDK's node is a failure.
    end = driven.step("end")
    assert end["status"] == "failure" and end["collectors"] == []
    assert end["authorization"] is None
    assert end["error"]["type"] == "davinci_error"
    assert end["error"]["code"] == "VERIFICATION_FAILED"
    assert end["error"]["message"] == (
        "Identity verification failed: government ID expired on 2024-03-31"
    )
    assert [s["what"] for s in driven.steps] == ["start", "qr", "poll", "end"]  # no tokens
    run = driven.run(qr["interactionId"])
    assert run["status"] == "failed" and run["result"] is None
    assert run["error"]["code"] == "VERIFICATION_FAILED"


def test_the_sdk_waits_for_a_late_scan_then_succeeds(
    registrations: dict[str, Future[Registration]],
) -> None:
    driven = ending(registrations, "late-scan")
    assert (driven.persona, driven.waits) == ("success", 2)
    qr = check_form_and_qr(driven)
    polls = [s for s in driven.steps if s["what"] == "poll"]
    assert len(polls) == 3
    # Nobody scanned: each poll ran Check Transaction Status (No match) and the QR code was
    # shown again. The SDK stays on it with the same token.
    for again in polls[:2]:
        assert again["status"] == "continue" and types(again) == QR_SCREEN
        assert again["token"] == qr["token"] and again["pollStatus"] == "continue"
        assert again["collectors"][2]["label"] == qr["collectors"][2]["label"]
    assert [(r["pending"]["node"], r["pending"]["visit"]) for r in driven.runs] == [
        ("show_qr_code", 1),
        ("show_qr_code", 2),
        ("show_qr_code", 3),
    ]
    assert {r["pending"]["token"] for r in driven.runs} == {qr["token"]}
    # The phone submitted on the third showing; the next poll reached the results.
    check_results(polls[2], "SUCCESS")
    check_success(driven, qr["interactionId"])

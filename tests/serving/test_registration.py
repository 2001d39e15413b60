"""The registration flow over pi.flow against the embedded sandbox: QR code, polling, the phone.

The sandbox is served on the flow API's own port (the sandbox plugin's `register_routes`), so
the QR code's link reaches it through the server, as a phone's browser would.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from served import PKCE, REGISTRATION_FLOW, authorize, submit

from flowengine import VirtualClock

sandbox = pytest.importorskip("flowengine_connectors.pingone_sandbox")

DETAILS = {
    "given_name": "John",
    "family_name": "Doe",
    "email": "john.doe@example.com",
    "birthdate": "1985-04-01",
    "username": "",
}


def by_type(step: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in step["form"]["components"]["fields"] if f["type"] == kind]


def test_registration_over_pi_flow_with_the_phone(serve: Any) -> None:
    clock = VirtualClock()
    with sandbox.use_sandbox(sandbox.Sandbox(clock=clock)):
        served = serve(REGISTRATION_FLOW, clock=clock)
        pkce = PKCE()
        form = authorize(served, "registration", pkce).json()
        assert [f["key"] for f in by_type(form, "TEXT")] == list(DETAILS)
        qr = submit(served, form, DETAILS)
        assert qr.status_code == 200, qr.text
        step = qr.json()
        [code] = by_type(step, "QR_CODE")
        [polling] = by_type(step, "POLLING")
        assert code["content"].startswith("data:image/png;base64,")
        link = code["fallbackText"]
        # The link points at this server, which serves the sandbox's page and API.
        assert link.startswith(f"{served.url}/verify-webapp/index.html?txnid=")
        assert any(label["content"] == link for label in by_type(step, "LABEL"))
        assert polling["pollInterval"] == 5000 and polling["pollRetries"] > 0
        assert by_type(step, "SUBMIT_BUTTON") == []
        page = served.client.get(link)
        assert page.status_code == 200 and "<html" in page.text.lower()

        # Polled before the interval: the rewind event, the token kept.
        rewind = submit(served, step, {"polling": "continue"}, event="polling")
        assert rewind.json()["eventName"] == "rewindStateToLastRenderedUI"
        # Polled after it, nobody scanned yet: the flow looked, loops back, still a rewind.
        clock.advance(5)
        again = submit(served, step, {"polling": "continue"}, event="polling")
        assert again.json()["eventName"] == "rewindStateToLastRenderedUI", again.text
        run = served.client.get(f"/api/runs/{step['interactionId']}").json()
        assert run["pending"]["node"] == "show_qr_code" and run["pending"]["visit"] == 2
        assert run["pending"]["token"] == step["interactionToken"]  # the client's token holds

        # The phone opens the link and submits the persona's documents through this server.
        state = asyncio.run(sandbox.Phone().persona(link, "success"))
        assert state

        clock.advance(5)
        result = submit(served, step, {"polling": "continue"}, event="polling")
        assert result.status_code == 200, result.text
        shown = result.json()
        assert shown["eventName"] == "continue"
        assert shown["interactionToken"] != step["interactionToken"]
        labels = [f["content"] for f in by_type(shown, "LABEL")]
        assert labels[0] == "Identity verification: SUCCESS"

        done = submit(served, shown, {}).json()
        assert done["status"] == "COMPLETED"
        assert done["authorizeResponse"]["state"] == pkce.state
        everything = str(form) + str(step) + str(shown) + str(done)
        assert "sandbox-secret" not in everything  # connection secrets never in a response
        stored = served.client.get(f"/api/runs/{step['interactionId']}").json()
        assert stored["result"]["result"]["status"] == "VERIFIED"
        assert "sandbox-secret" not in str(stored)


def test_the_sandbox_phone_command_scans_a_served_qr_code(serve: Any) -> None:
    from click.testing import CliRunner

    # private: the `flowengine` command, whose `sandbox phone` the person at the terminal runs
    from flowengine._cli.app import main

    clock = VirtualClock()
    with sandbox.use_sandbox(sandbox.Sandbox(clock=clock)):
        served = serve(REGISTRATION_FLOW, clock=clock)
        run = served.client.post("/api/runs", json={"flow": "registration"}).json()
        url = run["links"]["continue"]
        run = served.client.post(
            url, json={"token": run["pending"]["token"], "response": DETAILS}
        ).json()
        link = run["pending"]["data"]["url"]
        assert link.startswith(served.url)
        bad = CliRunner().invoke(main, ["sandbox", "phone", link, "--persona", "nobody"])
        assert bad.exit_code == 2 and "unknown persona" in bad.output
        result = CliRunner().invoke(main, ["sandbox", "phone", link, "--persona", "success"])
        assert result.exit_code == 0, result.output
        # The page's state after the last document: the transaction's status, as the API says.
        assert "submitted success's documents: SUCCESS" in result.output
        clock.advance(5)
        run = served.client.post(url, json={"token": run["pending"]["token"]}).json()
        assert run["pending"]["kind"] == "message"
        assert run["pending"]["data"]["title"] == "Identity verification: SUCCESS"
        not_a_link = CliRunner().invoke(
            main, ["sandbox", "phone", f"{served.url}/nowhere", "--persona", "success"]
        )
        assert not_a_link.exit_code == 2 and "web verification URL" in not_a_link.output


def test_the_served_sandbox_plays_the_phone_over_http(serve: Any) -> None:
    # A test in any language finishes a QR step with one POST: no Python helper needed.
    clock = VirtualClock()
    with sandbox.use_sandbox(sandbox.Sandbox(clock=clock)):
        served = serve(REGISTRATION_FLOW, clock=clock)
        run = served.client.post("/api/runs", json={"flow": "registration"}).json()
        url = run["links"]["continue"]
        run = served.client.post(
            url, json={"token": run["pending"]["token"], "response": DETAILS}
        ).json()
        link = run["pending"]["data"]["url"]
        unknown = served.client.post("/sandbox/phone", json={"url": link, "persona": "nobody"})
        assert unknown.status_code == 400
        assert unknown.json()["details"][0]["target"] == "persona"
        not_a_link = served.client.post("/sandbox/phone", json={"url": "x", "persona": "success"})
        assert not_a_link.status_code == 400
        played = served.client.post("/sandbox/phone", json={"url": link, "persona": "success"})
        assert played.status_code == 200, played.text
        assert played.json()["persona"] == "success"
        clock.advance(5)
        run = served.client.post(url, json={"token": run["pending"]["token"]}).json()
        assert run["pending"]["node"] == "display_user_data", run
        assert "SUCCESS" in run["pending"]["data"]["title"]

"""The plain JSON API: start, read, continue, cancel; its OpenAPI document; both doors, one run."""

from __future__ import annotations

from typing import Any

import pytest
from served import PKCE, authorize, submit

VALID = {
    "given_name": "Ada",
    "email": "ada@example.com",
    "age": "36",
    "plan": "pro",
    "password": "correct horse",
}


def start(served: Any, flow: str = "form", **body: Any) -> Any:
    return served.client.post("/api/runs", json={"flow": flow, **body})


def test_a_form_flow_over_the_plain_api(serve: Any) -> None:
    served = serve()
    flows = served.client.get("/api/flows").json()["flows"]
    assert [f["id"] for f in flows] == ["form"]
    started = start(served)
    assert started.status_code == 201, started.text
    run = started.json()
    assert run["status"] == "waiting" and run["flow"] == "form"
    pending = run["pending"]
    assert pending["node"] == "sign_up" and pending["kind"] == "form"
    assert [f["name"] for f in pending["data"]["fields"]] == list(VALID)

    wrong = served.client.post(
        run["links"]["continue"],
        json={"token": pending["token"], "response": {**VALID, "age": "old"}},
    ).json()
    assert wrong["status"] == "waiting"
    assert wrong["pending"]["data"]["errors"] == {"age": "Age must be a number"}
    assert wrong["pending"]["token"] != pending["token"]  # a new step, a new token

    welcome = served.client.post(
        run["links"]["continue"], json={"token": wrong["pending"]["token"], "response": VALID}
    ).json()
    assert welcome["pending"]["kind"] == "message"
    assert welcome["pending"]["data"]["title"] == "Welcome, Ada"
    done = served.client.post(
        run["links"]["continue"], json={"token": welcome["pending"]["token"]}
    ).json()
    assert done["status"] == "completed" and done["pending"] is None
    assert done["result"] == {"result": {"email": "ada@example.com", "plan": "pro"}}
    assert served.client.get(f"/api/runs/{run['id']}").json() == done


GREETING = """
flow: greeting
title: Greeting
inputs:
  type: object
  required: [name]
  properties: {name: {type: string}}
start: hello
nodes:
  hello:
    use: ui.message
    with: {title: "Hello, {{ inputs.name }}"}
    next: done
  done:
    use: ui.success
    with: {result: "{{ inputs.name }}"}
"""


def test_inputs_are_checked_against_the_flow(serve: Any, tmp_path: Any) -> None:
    flow = tmp_path / "greeting.yaml"
    flow.write_text(GREETING)
    served = serve(str(flow))
    missing = start(served, flow="greeting")
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "INVALID_INPUTS"
    assert "name" in missing.json()["error"]["message"]
    wrong = start(served, flow="greeting", inputs={"name": 3})
    assert wrong.status_code == 400
    run = start(served, flow="greeting", inputs={"name": "Ada"}).json()
    assert run["pending"]["data"]["title"] == "Hello, Ada"
    unknown = start(served, flow="nope")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "UNKNOWN_FLOW"
    assert "greeting" in unknown.json()["error"]["message"]


def test_cancel_ends_a_waiting_run(serve: Any) -> None:
    served = serve()
    run = start(served).json()
    refused = served.client.post(run["links"]["cancel"], json={"token": "0" * 64})
    assert refused.status_code == 401
    assert served.client.get(run["links"]["self"]).json()["status"] == "waiting"
    cancelled = served.client.post(run["links"]["cancel"], json={"token": run["pending"]["token"]})
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "failed" and body["error"]["code"] == "CANCELLED"
    again = served.client.post(run["links"]["cancel"], json={"token": run["pending"]["token"]})
    assert again.status_code == 409 and again.json()["error"]["code"] == "RUN_ENDED"


def test_a_run_started_over_pi_flow_is_read_and_continued_over_the_plain_api(serve: Any) -> None:
    served = serve()
    step = authorize(served, "form", PKCE()).json()
    run = served.client.get(f"/api/runs/{step['interactionId']}").json()
    assert run["pending"]["token"] == step["interactionToken"]
    after = served.client.post(
        run["links"]["continue"], json={"token": run["pending"]["token"], "response": VALID}
    ).json()
    assert after["pending"]["kind"] == "message"
    stale = submit(served, step, VALID)  # the pi.flow client's token named the old step
    assert stale.status_code == 401 and stale.json()["code"] == 1999


def test_the_openapi_document_is_valid_and_lists_every_route(serve: Any) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    served = serve()
    doc = served.client.get("/api/openapi.json").json()
    validator.validate(doc)
    assert doc["openapi"].startswith("3.1")
    assert sorted(doc["paths"]) == [
        "/api/flows",
        "/api/runs",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/cancel",
        "/api/runs/{run_id}/continue",
    ]
    assert doc["servers"] == [{"url": served.url}]


def test_unknown_routes_and_methods_are_json_4xx(serve: Any) -> None:
    served = serve()
    missing = served.client.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
    wrong = served.client.delete("/api/runs")
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    unknown_run = served.client.get("/api/runs/nope")
    assert unknown_run.status_code == 404 and unknown_run.json()["error"]["code"] == "UNKNOWN_RUN"

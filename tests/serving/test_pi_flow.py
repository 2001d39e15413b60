"""DaVinci's pi.flow protocol over HTTP, as Ping's SDK drives it: a form flow end to end."""

from __future__ import annotations

import base64
import json
from typing import Any

from served import PKCE, REDIRECT, SDK_HEADERS, authorize, submit

VALID = {
    "given_name": "Ada",
    "email": "ada@example.com",
    "age": "36",
    "plan": "pro",
    "password": "correct horse",
}


def fields(step: dict[str, Any]) -> list[dict[str, Any]]:
    return step["form"]["components"]["fields"]


def token_exchange(served: Any, code: str, pkce: PKCE, **override: str) -> Any:
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "flowengine-dev",
        "redirect_uri": REDIRECT,
        "code_verifier": pkce.verifier,
        **override,
    }
    return served.client.post(
        f"/{served.env}/as/token",
        content="&".join(f"{k}={v}" for k, v in body.items()),
        headers={"content-type": "application/x-www-form-urlencoded;charset=UTF-8"},
    )


def test_discovery_has_what_the_sdk_needs(serve: Any) -> None:
    served = serve()
    doc = served.client.get("/local/as/.well-known/openid-configuration").json()
    assert doc["issuer"] == f"{served.url}/local/as"
    assert doc["authorization_endpoint"] == f"{served.url}/local/as/authorize"
    assert doc["token_endpoint"] == f"{served.url}/local/as/token"
    assert "pi.flow" not in doc.get("response_modes_supported", [])
    assert served.client.get("/other/as/.well-known/openid-configuration").status_code == 404


def test_a_form_flow_from_authorize_to_tokens(serve: Any) -> None:
    served = serve()
    pkce = PKCE()
    start = authorize(served, "form", pkce, start="true", extra_thing="tolerated")
    assert start.status_code == 200, start.text
    step = start.json()
    assert step["eventName"] == "continue"
    assert step["_links"]["next"]["href"].startswith(served.url + "/local/")
    assert step["form"]["name"] == "Create your account"
    wire = {f["key"]: f for f in fields(step)}
    assert [f["type"] for f in fields(step)] == [
        "TEXT", "TEXT", "TEXT", "DROPDOWN", "PASSWORD", "SUBMIT_BUTTON", "FLOW_BUTTON"
    ]  # fmt: skip
    assert wire["plan"]["inputType"] == "SINGLE_SELECT"
    assert wire["plan"]["options"] == [
        {"label": "free", "value": "free"},
        {"label": "pro", "value": "pro"},
    ]
    assert wire["password"]["label"] == "Password"
    assert wire["email"]["validation"]["regex"].startswith("^")
    assert wire["success"] == {"type": "SUBMIT_BUTTON", "key": "success", "label": "Sign up"}
    assert wire["cancel"] == {"type": "FLOW_BUTTON", "key": "cancel", "label": "Cancel"}
    assert sum(f["type"] == "SUBMIT_BUTTON" for f in fields(step)) == 1

    # A mistake: a 4xx that keeps the form, with per-field errors; the token stays valid.
    wrong = submit(served, step, {**VALID, "email": "ada-at-example", "password": "short"})
    assert wrong.status_code == 400, wrong.text
    error = wrong.json()
    assert error["code"] != 1999 and error["message"]
    targets = {d["target"]: d["message"] for d in error["details"][0]["rawResponse"]["details"]}
    assert error["details"][0]["rawResponse"]["code"] == "INVALID_DATA"
    assert set(targets) == {"email", "password"}
    assert targets["password"] == "Use 8 characters or more"

    welcome = submit(served, step, VALID)  # the same token, the client kept it
    assert welcome.status_code == 200, welcome.text
    message = welcome.json()
    assert message["interactionToken"] != step["interactionToken"]
    assert [f["type"] for f in fields(message)] == ["LABEL", "LABEL", "SUBMIT_BUTTON"]
    assert fields(message)[0]["content"] == "Welcome, Ada"

    done = submit(served, message, {})
    assert done.status_code == 200, done.text
    success = done.json()
    assert success["status"] == "COMPLETED" and success["session"]["id"]
    assert success["authorizeResponse"]["state"] == pkce.state
    code = success["authorizeResponse"]["code"]

    tokens = token_exchange(served, code, pkce)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["access_token"]
    claims = json.loads(base64.urlsafe_b64decode(body["id_token"].split(".")[1] + "=="))
    assert claims["aud"] == "flowengine-dev" and claims["acr"] == "form"
    assert claims["sub"] == success["interactionId"]
    # The run is the same one the plain API reads.
    run = served.client.get(f"/api/runs/{claims['sub']}").json()
    assert run["status"] == "completed"
    assert run["result"] == {"result": {"email": "ada@example.com", "plan": "pro"}}

    again = token_exchange(served, code, pkce)  # codes are single-use
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_flow_button_sends_an_action_and_a_failure_ends_it(serve: Any) -> None:
    served = serve()
    step = authorize(served, "form", PKCE()).json()
    cancelled = submit(served, step, None, event="action", action="cancel")
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["status"] == "FAILED"
    assert body["error"] == {"code": "CANCELLED", "message": "Sign-up cancelled."}
    assert "authorizeResponse" not in body


def test_the_token_exchange_checks_pkce_client_and_redirect(serve: Any) -> None:
    served = serve()

    def finished() -> tuple[str, PKCE]:
        pkce = PKCE()
        step = authorize(served, "form", pkce).json()
        message = submit(served, step, VALID).json()
        return submit(served, message, {}).json()["authorizeResponse"]["code"], pkce

    code, pkce = finished()
    bad = token_exchange(served, code, pkce, code_verifier="x" * 50)
    assert bad.status_code == 400 and "code_verifier" in bad.json()["error_description"]
    assert token_exchange(served, code, pkce).status_code == 400  # burnt by the failed try
    code, pkce = finished()
    other = token_exchange(served, code, pkce, redirect_uri="http://127.0.0.1:9/other")
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant"
    code, pkce = finished()
    grant = token_exchange(served, code, pkce, grant_type="password")
    assert grant.json()["error"] == "unsupported_grant_type"


def test_authorize_refuses_what_it_cannot_serve(serve: Any) -> None:
    served = serve()
    pkce = PKCE()
    cases = {
        "client_id": ("nobody", "unknown client_id"),
        "redirect_uri": ("https://evil.example/cb", "not registered"),
        "response_mode": ("query", "pi.flow"),
        "code_challenge_method": ("plain", "S256"),
        "acr_values": ("nosuchflow", "no served flow"),
    }
    for name, (value, says) in cases.items():
        response = authorize(served, "form", pkce, **{name: value})
        assert response.status_code == 400, (name, response.text)
        assert says in response.json()["message"], name


def test_headers_match_whatever_their_case(serve: Any) -> None:
    served = serve()
    step = authorize(served, "form", PKCE()).json()
    body = {
        "id": step["id"],
        "eventName": "continue",
        "interactionId": step["interactionId"],
        "parameters": {"eventType": "submit", "data": {"actionKey": "success", "formData": VALID}},
    }
    headers = {
        **SDK_HEADERS,
        "interactionid": step["interactionId"],
        "INTERACTIONTOKEN": step["interactionToken"],
    }
    response = served.client.post(step["_links"]["next"]["href"], json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["form"]["components"]["fields"][0]["content"] == "Welcome, Ada"


def test_cors_for_configured_origins_only(serve: Any) -> None:
    served = serve()
    url = "/local/as/authorize"
    preflight = {
        "Origin": "http://localhost:5173",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "interactionid, interactiontoken",
    }
    ok = served.client.options(url, headers=preflight)
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert ok.headers["access-control-allow-credentials"] == "true"
    assert "interactionToken" in ok.headers["access-control-allow-headers"]
    refused = served.client.options(url, headers={**preflight, "Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    simple = served.client.get(
        "/local/as/.well-known/openid-configuration", headers={"Origin": "http://127.0.0.1:8080"}
    )
    assert simple.headers["access-control-allow-origin"] == "http://127.0.0.1:8080"


PREFILLED = """
flow: prefilled
start: ask
nodes:
  ask:
    use: ui.form
    with:
      title: Check your details
      fields:
        - {name: given_name}
        - {name: secret, type: password}
      values: {given_name: Ada, secret: hunter22}
    next: done
  done:
    use: ui.success
"""


def test_a_prefill_is_sent_but_never_a_password(serve: Any, tmp_path: Any) -> None:
    flow = tmp_path / "prefilled.yaml"
    flow.write_text(PREFILLED)
    served = serve(str(flow))
    step = authorize(served, "prefilled", PKCE()).json()
    assert step["formData"]["value"] == {"given_name": "Ada", "secret": ""}
    assert "hunter22" not in str(step)
    run = served.client.get(f"/api/runs/{step['interactionId']}").json()
    assert run["pending"]["data"]["values"] == {"given_name": "Ada"}
    assert "hunter22" not in str(run)


def test_an_expired_code_is_refused(serve: Any) -> None:
    import time

    # private: a config from its parsed value, as `--config FILE` gives it
    from flowengine._serving.config import parse_config

    config = parse_config(
        {
            "code_ttl": 0.05,
            "clients": [{"client_id": "flowengine-dev", "redirect_uris": [REDIRECT]}],
        },
        "test",
    )
    served = serve(config=config)
    pkce = PKCE()
    step = authorize(served, "form", pkce).json()
    message = submit(served, step, VALID).json()
    code = submit(served, message, {}).json()["authorizeResponse"]["code"]
    time.sleep(0.1)
    late = token_exchange(served, code, pkce)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    assert "expired" in late.json()["error_description"]


CHOICES = """\
flow: choices
start: ask
nodes:
  ask:
    use: ui.form
    with:
      fields:
        - {name: channels, type: multiselect, options: [email, sms, post]}
        - {name: terms, type: checkbox, label: I accept the terms}
    next: done
  done:
    use: ui.success
    with:
      result: {channels: "{{ nodes.ask.output.channels }}", terms: "{{ nodes.ask.output.terms }}"}
"""


def test_multiselect_and_checkbox_fields_as_the_sdk_sees_them(serve: Any, tmp_path: Any) -> None:
    flow = tmp_path / "choices.yaml"
    flow.write_text(CHOICES)
    served = serve(str(flow))
    step = authorize(served, "choices", PKCE()).json()
    fields = {f.get("key"): f for f in step["form"]["components"]["fields"]}
    assert fields["channels"]["type"] == "CHECKBOX"
    assert fields["channels"]["inputType"] == "MULTI_SELECT"
    assert [o["value"] for o in fields["channels"]["options"]] == ["email", "sms", "post"]
    assert (fields["terms"]["type"], fields["terms"]["inputType"]) == ("SINGLE_CHECKBOX", "BOOLEAN")
    unticked = submit(served, step, {"channels": ["sms"], "terms": False})
    assert unticked.status_code == 400  # the recoverable error that keeps the form
    assert "I accept the terms must be ticked" in unticked.text
    done = submit(served, step, {"channels": ["sms", "post"], "terms": True})
    assert done.status_code == 200, done.text
    run = served.client.get(f"/api/runs/{step['interactionId']}").json()
    assert run["result"] == {"result": {"channels": ["sms", "post"], "terms": True}}

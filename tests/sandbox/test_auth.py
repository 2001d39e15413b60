"""Token endpoint and bearer checks."""

from __future__ import annotations

import httpx
from flowengine_connectors.pingone_sandbox import Sandbox
from sandbox_support import API, ENV, assert_envelope, token_for

from flowengine import VirtualClock


async def test_basic_auth_token_shape(anon: httpx.AsyncClient) -> None:
    response = await anon.post(
        f"/{ENV}/as/token",
        data={"grant_type": "client_credentials"},
        auth=("sandbox-client", "sandbox-secret"),
    )
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert len(body["access_token"]) >= 32
    assert response.headers["cache-control"] == "no-store"


async def test_form_body_client_auth(anon: httpx.AsyncClient) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": "sandbox-client",
        "client_secret": "sandbox-secret",
    }
    response = await anon.post(f"/{ENV}/as/token", data=form)
    assert response.status_code == 200
    token = response.json()["access_token"]
    users = await anon.get(f"{API}/users", headers={"Authorization": f"Bearer {token}"})
    assert users.status_code == 200


async def test_wrong_secret_is_oauth_invalid_client(anon: httpx.AsyncClient) -> None:
    response = await anon.post(
        f"/{ENV}/as/token", data={"grant_type": "client_credentials"}, auth=("sandbox-client", "x")
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "sandbox-secret" not in response.text


async def test_other_grant_and_content_type(anon: httpx.AsyncClient) -> None:
    auth = ("sandbox-client", "sandbox-secret")
    grant = await anon.post(f"/{ENV}/as/token", data={"grant_type": "password"}, auth=auth)
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    as_json = await anon.post(f"/{ENV}/as/token", json={"grant_type": "x"}, auth=auth)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    missing = await anon.post(f"/{ENV}/as/token", data={"grant_type": "client_credentials"})
    assert missing.status_code == 401 and missing.json()["error"] == "invalid_client"


async def test_missing_bad_and_foreign_bearer(anon: httpx.AsyncClient) -> None:
    assert_envelope(await anon.get(f"{API}/users"), 401, "ACCESS_FAILED")
    bad = await anon.get(f"{API}/users", headers={"Authorization": "Bearer nope"})
    assert_envelope(bad, 401, "ACCESS_FAILED")
    other = await token_for(anon, "other-env")
    foreign = await anon.get(f"{API}/users", headers={"Authorization": f"Bearer {other}"})
    assert_envelope(foreign, 401, "ACCESS_FAILED")


async def test_token_expires_on_the_clock(
    anon: httpx.AsyncClient, sandbox: Sandbox, clock: VirtualClock
) -> None:
    headers = {"Authorization": f"Bearer {await token_for(anon)}"}
    clock.advance(3599)
    assert (await anon.get(f"{API}/users", headers=headers)).status_code == 200
    clock.advance(1)
    body = assert_envelope(await anon.get(f"{API}/users", headers=headers), 401, "ACCESS_FAILED")
    assert "expired" in body["message"]


async def test_configured_environments_and_lifetime(clock: VirtualClock) -> None:
    config = {"environments": {"prod": {"clients": {"app": "s3cret"}}}, "token_lifetime": 60}
    sandbox = Sandbox(clock=clock, config=config)
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as c:
        ok = await c.post(
            "/prod/as/token", data={"grant_type": "client_credentials"}, auth=("app", "s3cret")
        )
        assert ok.json()["expires_in"] == 60
        default = await c.post(
            "/prod/as/token",
            data={"grant_type": "client_credentials"},
            auth=("sandbox-client", "sandbox-secret"),
        )
        assert default.status_code == 401
        unknown = await c.post(
            "/elsewhere/as/token", data={"grant_type": "client_credentials"}, auth=("app", "s3cret")
        )
        assert unknown.status_code == 400


async def test_tokens_are_not_stored_in_clear(anon: httpx.AsyncClient, sandbox: Sandbox) -> None:
    token = await token_for(anon)
    keys = [key for key, _ in sandbox.store.items("token")]
    assert keys and token not in keys
    assert token not in repr(sandbox)

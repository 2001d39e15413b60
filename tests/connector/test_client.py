"""The PingOne client: regions, token caching and refresh, retries, errors, no secrets shown."""

from __future__ import annotations

import asyncio
import base64
import logging

import httpx
import pytest
from flowengine_connectors.pingone import PingOneError
from flowengine_connectors.pingone._retry import RetryPolicy
from flowengine_connectors.pingone.client import PingOneClient, PingOneSettings, tag_calls
from p1_scripted import CLIENT_ID, ENV, SECRET, ScriptedPingOne, json_response, settings

from flowengine import VirtualClock

REGION_HOSTS = {
    "NA": "pingone.com",
    "EU": "pingone.eu",
    "CA": "pingone.ca",
    "AU": "pingone.com.au",
    "SG": "pingone.sg",
    "AP": "pingone.asia",
}


@pytest.mark.parametrize("region", sorted(REGION_HOSTS))
def test_region_hosts(region: str) -> None:
    s = PingOneSettings.from_mapping(settings(region.lower()))
    assert s.api_base == f"https://api.{REGION_HOSTS[region]}/v1"
    assert s.token_url == f"https://auth.{REGION_HOSTS[region]}/{ENV}/as/token"


def test_sandbox_and_overrides() -> None:
    s = PingOneSettings.from_mapping(settings("sandbox"))
    assert (s.api_base, s.token_url, s.embedded) == (
        "http://sandbox.pingone.local/v1",
        f"http://sandbox.pingone.local/{ENV}/as/token",
        True,
    )
    s = PingOneSettings.from_mapping(settings("sandbox", api_url="http://127.0.0.1:8080/v1/"))
    assert (s.api_base, s.token_url, s.embedded) == (
        "http://127.0.0.1:8080/v1",
        f"http://127.0.0.1:8080/{ENV}/as/token",
        False,
    )
    s = PingOneSettings.from_mapping(
        settings("EU", api_url="https://api.example.com/v1", auth_url="https://auth.example.com")
    )
    assert (s.api_base, s.token_url) == (
        "https://api.example.com/v1",
        f"https://auth.example.com/{ENV}/as/token",
    )
    s = PingOneSettings.from_mapping(settings(auth_url="https://id.example.com/as/token"))
    assert s.token_url == "https://id.example.com/as/token"


def test_bad_settings_name_the_fix() -> None:
    with pytest.raises(PingOneError, match=r"region 'MARS'.*NA, EU, CA, AU, SG, AP, sandbox"):
        PingOneSettings.from_mapping(settings("mars"))
    with pytest.raises(PingOneError, match="lack client_secret") as e:
        PingOneSettings.from_mapping({"environment_id": "e", "client_id": "c"})
    assert e.value.code == "INVALID_SETTINGS"


def test_a_missing_region_is_a_settings_error_not_the_sandbox() -> None:
    # No default region: a connection meant for a real tenant never lands on the sandbox.
    no_region = {"environment_id": ENV, "client_id": CLIENT_ID, "client_secret": SECRET}
    for given in (no_region, {**no_region, "region": ""}, {**no_region, "api_url": "https://x/v1"}):
        with pytest.raises(PingOneError, match=r"lack region; set region: one of NA, .*sandbox"):
            PingOneSettings.from_mapping(given)


def test_a_flow_connection_without_region_names_the_connection() -> None:
    from flowengine import FlowDefinitionError, load_flow

    text = """
flow: f
connections:
  users: {connector: pingone, settings: {environment_id: e, client_id: c, client_secret: s}}
start: a
nodes:
  a: {use: users.readUser, with: {userId: u}}
"""
    with pytest.raises(FlowDefinitionError, match=r"FE071 connection 'users' .*'region' is a requ"):
        load_flow("f.yaml", text=text)


async def test_token_fetched_once_for_50_calls(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    for _ in range(50):
        await client.get(client.env_path("users", "u1"))
    assert pingone.tokens_issued == 1
    assert len(pingone.requests) == 50
    assert {r.headers["authorization"] for r in pingone.requests} == {"Bearer token-1"}


async def test_token_request_is_client_secret_basic(clock: VirtualClock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/as/token"):
            return json_response(200, {"access_token": "t", "expires_in": 3600})
        return json_response(200, {})

    async with PingOneClient(
        settings("EU"), transport=httpx.MockTransport(handler), clock=clock
    ) as c:
        await c.get(c.env_path("verifyPolicies"))
    token = seen[0]
    assert str(token.url) == f"https://auth.pingone.eu/{ENV}/as/token"
    assert token.method == "POST"
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    expected = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    assert token.headers["authorization"] == f"Basic {expected}"
    assert token.content == b"grant_type=client_credentials"


async def test_special_characters_in_the_secret_reach_the_sandbox(clock: VirtualClock) -> None:
    from flowengine_connectors.pingone_sandbox import Sandbox

    secret = "p@ss w%rd+/:ü"
    sandbox = Sandbox(clock=clock, config={"environments": {ENV: {"clients": {"a:b": secret}}}})
    own = {**settings("sandbox"), "client_id": "a:b", "client_secret": secret}
    async with PingOneClient(own, transport=sandbox.transport(), clock=clock) as c:
        assert (await c.get(c.env_path("verifyPolicies"))).status_code == 200
        header = c.auth._basic.removeprefix("Basic ")
        assert base64.b64decode(header) == b"a%3Ab:p%40ss+w%25rd%2B%2F%3A%C3%BC"
    wrong = {**own, "client_secret": secret.replace("+", " ")}
    async with PingOneClient(wrong, transport=sandbox.transport(), clock=clock) as c:
        with pytest.raises(PingOneError) as refused:
            await c.get(c.env_path("verifyPolicies"))
        assert refused.value.code == "AUTHENTICATION_FAILED"


async def test_token_refetched_shortly_before_expiry(
    client: PingOneClient, pingone: ScriptedPingOne, clock: VirtualClock
) -> None:
    await client.get("/x")
    clock.advance(3600 - 120)
    await client.get("/x")
    assert pingone.tokens_issued == 1
    clock.advance(61)  # now inside the 60 s leeway before expiry
    await client.get("/x")
    assert pingone.tokens_issued == 2
    assert pingone.requests[-1].headers["authorization"] == "Bearer token-2"


async def test_refresh_once_after_401(client: PingOneClient, pingone: ScriptedPingOne) -> None:
    await client.get("/x")
    pingone.refuse_tokens.add("token-1")  # revoked at the server
    response = await client.get("/x")
    assert response.status_code == 200
    assert pingone.tokens_issued == 2
    assert pingone.auths == [
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2",
    ]


async def test_second_401_is_an_error_not_a_loop(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    pingone.refuse_tokens.update({"token-1", "token-2", "token-3"})
    with pytest.raises(PingOneError) as e:
        await client.get("/x")
    assert (e.value.status_code, e.value.code) == (401, "ACCESS_FAILED")
    assert pingone.tokens_issued == 2


async def test_retry_after_429_is_honoured(
    client: PingOneClient, pingone: ScriptedPingOne, clock: VirtualClock
) -> None:
    pingone.queue.append(
        json_response(429, {"code": "REQUEST_LIMITED", "message": "slow"}, {"Retry-After": "7"})
    )
    start = clock.now()
    response = await client.get("/x")
    assert response.status_code == 200
    assert clock.now() - start == 7
    assert len(pingone.requests) == 2


async def test_retry_after_is_capped(
    client: PingOneClient, pingone: ScriptedPingOne, clock: VirtualClock
) -> None:
    pingone.queue.append(json_response(503, {"code": "X"}, {"Retry-After": "3600"}))
    start = clock.now()
    await client.get("/x")
    assert clock.now() - start == RetryPolicy().retry_after_cap == 30


async def test_a_retry_after_the_client_gave_up_on_reaches_the_error(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    # The client's own retries are spent; a node's `retry:` reads how long PingOne asked for.
    limited = json_response(429, {"code": "REQUEST_LIMITED"}, {"Retry-After": "12"})
    pingone.queue += [limited] * (RetryPolicy().max_retries + 1)
    with pytest.raises(PingOneError) as e:
        await client.get("/x")
    assert (e.value.code, e.value.retry_after) == ("REQUEST_LIMITED", 12)
    assert e.value.to_dict()["retry_after"] == 12


async def test_backoff_grows_with_jitter(pingone: ScriptedPingOne, clock: VirtualClock) -> None:
    pingone.queue += [json_response(502, {}), json_response(504, {}), json_response(500, {})]
    sleeps: list[float] = []
    original = clock.sleep

    async def recording_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await original(seconds)

    clock.sleep = recording_sleep  # type: ignore[method-assign]
    async with PingOneClient(settings(), transport=httpx.MockTransport(pingone), clock=clock) as c:
        await c.get("/x")
    assert len(sleeps) == 3
    for attempt, slept in enumerate(sleeps):
        base = 0.5 * 2**attempt
        assert base <= slept <= base + 0.5


async def test_gives_up_after_max_retries(client: PingOneClient, pingone: ScriptedPingOne) -> None:
    pingone.default = json_response(
        503, {"code": "SERVICE_UNAVAILABLE", "message": "down"}, {"correlation-id": "corr-9"}
    )
    with pytest.raises(PingOneError) as e:
        await client.get("/x")
    assert len(pingone.requests) == 1 + RetryPolicy().max_retries
    assert (e.value.status_code, e.value.code, e.value.correlation_id) == (
        503,
        "SERVICE_UNAVAILABLE",
        "corr-9",
    )


async def test_post_not_retried_after_connection_reset(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    pingone.queue.append(httpx.ReadError("Connection reset by peer"))
    with pytest.raises(PingOneError) as e:
        await client.post("/users", json={"username": "a"})
    assert e.value.code == "NETWORK_ERROR"
    assert len(pingone.requests) == 1


async def test_post_not_retried_after_500(client: PingOneClient, pingone: ScriptedPingOne) -> None:
    pingone.queue.append(json_response(500, {"code": "UNEXPECTED_ERROR", "message": "boom"}))
    with pytest.raises(PingOneError, match="500 UNEXPECTED_ERROR"):
        await client.post("/users", json={})
    assert len(pingone.requests) == 1


async def test_post_retried_when_never_sent_or_refused(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    pingone.queue += [
        httpx.ConnectError("connection refused"),
        json_response(429, {"code": "REQUEST_LIMITED"}, {"Retry-After": "1"}),
    ]
    response = await client.post("/users", json={"username": "a"})
    assert response.status_code == 200
    assert len(pingone.requests) == 3
    assert all(r.content == b'{"username":"a"}' for r in pingone.requests)


async def test_get_retried_after_connection_reset(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    pingone.queue.append(httpx.ReadError("Connection reset by peer"))
    assert (await client.get("/x")).status_code == 200
    assert len(pingone.requests) == 2


async def test_error_envelope_becomes_pingone_error(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    envelope = {
        "id": "05f2cbb8",
        "code": "INVALID_DATA",
        "message": "One or more validation errors were in the request.",
        "details": [
            {"code": "INVALID_VALUE", "target": "type", "message": "invalid document type"}
        ],
    }
    pingone.queue.append(json_response(400, envelope, {"Correlation-Id": "c-123"}))
    with pytest.raises(PingOneError) as e:
        await client.post(client.env_path("users", "u", "verifyTransactions", "t", "documents"))
    err = e.value.to_dict()
    assert err == {
        "code": "INVALID_DATA",
        "message": e.value.message,
        "details": envelope["details"],
        "status_code": 400,
        "correlation_id": "c-123",
    }
    assert "400 INVALID_DATA to POST /v1/environments/env-0001/users/u/" in e.value.message
    # The generic message is followed by which field failed and why (codes only, no values).
    assert e.value.message.endswith("in the request. (type: INVALID_VALUE)")


async def test_error_message_names_each_detail_without_its_values(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    details: list[object] = [
        {"code": "UNIQUENESS_VIOLATION", "target": "username", "message": "'ada@x' used"}
    ]
    details += [{"code": "REQUIRED_VALUE", "message": "name is required"}, "not an object"]
    details += [{"code": f"C{n}", "target": f"f{n}"} for n in range(5)]
    body = {"code": "INVALID_DATA", "message": "Invalid.", "details": details}
    pingone.queue.append(json_response(400, body))
    with pytest.raises(PingOneError) as e:
        await client.post(client.env_path("users"), json={"username": "ada@x"})
    assert e.value.message.endswith(
        "Invalid. (username: UNIQUENESS_VIOLATION; REQUIRED_VALUE; f0: C0; f1: C1, and 3 more)"
    )
    assert "ada@x" not in e.value.message
    assert e.value.details == details


async def test_refused_credentials_name_the_fix_without_the_secret(clock: VirtualClock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(401, {"error": "invalid_client", "error_description": "bad secret"})

    async with PingOneClient(settings(), transport=httpx.MockTransport(handler), clock=clock) as c:
        with pytest.raises(PingOneError) as e:
            await c.get("/x")
    assert e.value.code == "AUTHENTICATION_FAILED"
    assert "invalid_client" in str(e.value) and "client_secret" in str(e.value)
    assert SECRET not in str(e.value) and SECRET not in repr(e.value.to_dict())


async def test_reprs_and_logs_hold_no_secret(
    client: PingOneClient, pingone: ScriptedPingOne, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pingone.queue.append(json_response(503, {}, {"Retry-After": "1"}))
    await client.get("/x")
    shown = " ".join([repr(client), repr(client.settings), repr(client.auth), caplog.text])
    assert "retry 1" in caplog.text
    assert SECRET not in shown and "token-1" not in shown
    assert base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode() not in shown


async def test_path_segments_are_escaped(client: PingOneClient, pingone: ScriptedPingOne) -> None:
    await client.get(client.env_path("users", "../../admin"))
    assert pingone.requests[0].url.raw_path == b"/v1/environments/env-0001/users/..%2F..%2Fadmin"


async def test_one_http_client_per_connection(client: PingOneClient) -> None:
    first = client._http
    await client.get("/x")
    await client.get("/y")
    assert client._http is first and not first.is_closed


async def test_token_endpoint_retried_after_503(clock: VirtualClock) -> None:
    answers = [json_response(503, {"code": "X"}, {"Retry-After": "4"})]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/as/token"):
            if answers:
                return answers.pop()
            return json_response(200, {"access_token": "t", "expires_in": 3600})
        return json_response(200, {})

    start = clock.now()
    async with PingOneClient(settings(), transport=httpx.MockTransport(handler), clock=clock) as c:
        assert (await c.get("/x")).status_code == 200
        assert c.auth.token_requests == 2
    assert clock.now() - start == 4


async def test_concurrent_first_calls_share_one_token(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    await asyncio.gather(*(client.get(f"/x/{i}") for i in range(10)))
    assert pingone.tokens_issued == 1
    assert set(pingone.auths) == {"Bearer token-1"}


async def test_concurrent_401s_share_one_refresh(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    await client.get("/x")
    pingone.refuse_tokens.add("token-1")
    responses = await asyncio.gather(*(client.get(f"/x/{i}") for i in range(10)))
    assert {r.status_code for r in responses} == {200}
    assert pingone.tokens_issued == 2
    assert set(pingone.auths[1:]) <= {"Bearer token-1", "Bearer token-2"}
    assert pingone.auths[-1] == "Bearer token-2"


async def test_telemetry_headers_follow_each_task(
    client: PingOneClient, pingone: ScriptedPingOne
) -> None:
    async def node(name: str) -> None:
        tag_calls("run:1", name, 2)  # ":" is not allowed by PingOne: it becomes "_"
        await asyncio.sleep(0)
        await client.get(f"/{name}")

    await asyncio.gather(node("left"), node("right"))
    seen = {
        r.url.path: (
            r.headers["x-ping-external-session-id"],
            r.headers["x-ping-external-transaction-id"],
        )
        for r in pingone.requests
    }
    assert seen == {
        "/v1/left": ("run_1", "run_1/left#2"),
        "/v1/right": ("run_1", "run_1/right#2"),
    }


@pytest.mark.parametrize("connector", ["pingone", "pingone_verify"])
def test_empty_url_settings_mean_unset(connector: str) -> None:
    """`api_url: ${PINGONE_API_URL:-}` lets one flow serve the embedded and a served sandbox."""
    import jsonschema

    from flowengine import load_registry

    schema = load_registry().connectors[connector].settings_schema
    base = {"environment_id": ENV, "client_id": CLIENT_ID, "client_secret": SECRET}
    base["region"] = "sandbox"
    jsonschema.validate({**base, "api_url": "", "auth_url": ""}, schema)
    with pytest.raises(jsonschema.ValidationError, match="ftp:"):
        jsonschema.validate({**base, "api_url": "ftp://host/v1"}, schema)
    unset = PingOneSettings.from_mapping({**base, "api_url": "", "auth_url": ""})
    assert unset.embedded and unset.api_base == "http://sandbox.pingone.local/v1"
    served = PingOneSettings.from_mapping({**base, "api_url": "http://127.0.0.1:8799/v1"})
    assert not served.embedded
    assert served.token_url == f"http://127.0.0.1:8799/{ENV}/as/token"

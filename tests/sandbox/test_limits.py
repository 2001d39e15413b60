"""The sandbox holds as PingOne would: body limits, JSON depth, code attempts, clock bounds,
client disconnects. Serving behaviour is tested over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import math
import socket
import time
from typing import Any

import httpx
import pytest
from flowengine_connectors.pingone_sandbox import Sandbox, ServerThread, use_sandbox
from flowengine_connectors.pingone_sandbox.http import MAX_JSON_DEPTH, json_depth
from flowengine_connectors.pingone_sandbox.limits import (
    DOCUMENT_BODY_LIMIT,
    JSON_BODY_LIMIT,
    TOKEN_BODY_LIMIT,
    body_limit,
)
from flowengine_connectors.pingone_sandbox.plugin import advance_action
from flowengine_connectors.pingone_sandbox.timetravel import MAX_ADVANCE_SECONDS
from flowengine_connectors.pingone_sandbox.webverify import MAX_CODE_ATTEMPTS
from sandbox_support import API, ENV, assert_envelope, make_tx, make_user, token_for

from flowengine import RunError, VirtualClock

WEB = "/v1/idValidations/webVerifications"


def _raw(url: str, head: bytes, body: bytes = b"", timeout: float = 10) -> tuple[bytes, float]:
    """Send `head` (request line and headers) and `body` on a socket; read the whole answer."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head + body)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                break
    return b"".join(chunks), time.monotonic() - started


def _complete(data: bytes) -> bool:
    head, _, rest = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(rest) >= int(line.split(b":")[1])
    return False


def _status_and_json(data: bytes) -> tuple[int, dict[str, Any], bytes]:
    head, _, rest = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(rest), head.lower()


def test_route_families_have_their_limits() -> None:
    assert body_limit(f"/{ENV}/as/token") == TOKEN_BODY_LIMIT == 64 * 1024
    assert body_limit(f"{API}/users") == JSON_BODY_LIMIT == 1024 * 1024
    assert body_limit(f"{API}/users/u/verifyTransactions/t/documents") == DOCUMENT_BODY_LIMIT
    assert body_limit(f"{API}/users/u/verifyTransactions/t/documents/d") == DOCUMENT_BODY_LIMIT
    assert body_limit(f"{WEB}/t/documents") == DOCUMENT_BODY_LIMIT == 16 * 1024 * 1024
    assert body_limit(f"{WEB}/t/sessions") == JSON_BODY_LIMIT


@pytest.mark.parametrize("token", [None, "Bearer not-a-token"])
def test_a_declared_length_over_the_limit_is_refused_before_the_body(token: str | None) -> None:
    """50 MB announced, nothing sent: the answer is 413 at once, before the token is checked."""
    with ServerThread(Sandbox()) as url:
        auth = f"Authorization: {token}\r\n" if token else ""
        head = (
            f"POST {API}/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"{auth}Content-Length: {50 * 1024 * 1024}\r\n\r\n"
        ).encode()
        data, took = _raw(url, head)
    status, body, headers = _status_and_json(data)
    assert status == 413
    assert body["code"] == "REQUEST_TOO_LARGE"
    assert body["details"][0]["target"] == "body"
    assert str(JSON_BODY_LIMIT) in body["message"]
    assert f"correlation-id: {body['id']}".encode() in headers
    assert took < 5


def test_a_chunked_body_is_counted_and_refused_past_the_limit() -> None:
    """No Content-Length: the sandbox counts the chunks and answers 413 without the rest."""
    with ServerThread(Sandbox()) as url:
        head = (
            f"POST /{ENV}/as/token HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode()
        chunk = b"a" * 16384
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5))  # 80 KiB, no end
        data, _ = _raw(url, head, body)
    status, envelope, _ = _status_and_json(data)
    assert status == 413
    assert str(TOKEN_BODY_LIMIT) in envelope["details"][0]["message"]


async def test_a_big_field_with_a_token_is_refused_and_not_stored() -> None:
    sandbox = Sandbox()
    with ServerThread(sandbox) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            client.headers["Authorization"] = f"Bearer {await token_for(client)}"
            big = {"username": "bob", "nickname": "x" * (JSON_BODY_LIMIT + 1)}
            response = await client.post(f"{API}/users", json=big)
            assert_envelope(response, 413, "REQUEST_TOO_LARGE", "body")
            listed = await client.get(f"{API}/users")
            assert listed.json()["_embedded"]["users"] == []
            # A body just under the limit is read as usual.
            ok = await client.post(f"{API}/users", json={"username": "bob", "nickname": "x" * 1000})
            assert ok.status_code == 201


async def test_documents_take_more_than_json_calls() -> None:
    """A 2 MB document body passes the documents limit (then fails on its content, 400)."""
    sandbox = Sandbox()
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as c:
        c.headers["Authorization"] = f"Bearer {await token_for(c)}"
        user = await make_user(c)
        tx = await make_tx(c, user)
        value = "A" * (2 * 1024 * 1024)
        path = f"{API}/users/{user}/verifyTransactions/{tx['id']}/documents"
        response = await c.post(path, json={"type": "Selfie", "value": value})
        assert_envelope(response, 400, "INVALID_DATA", "value")
        too_big = await c.post(f"{API}/users", json={"username": "z", "nickname": value})
        assert_envelope(too_big, 413, "REQUEST_TOO_LARGE")


def test_json_depth_is_measured_without_recursion() -> None:
    deep: Any = []
    for _ in range(200_000):
        deep = [deep]
    assert json_depth(deep) == 200_001
    assert json_depth({"a": [1, {"b": []}]}) == 4
    assert json_depth("text") == 0


async def test_json_nested_too_deep_is_400_also_without_a_token() -> None:
    """100,000 levels on the page's endpoint (no token) and 65 on the API: 400, never 500."""
    sandbox = Sandbox()
    with ServerThread(sandbox) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            client.headers["Authorization"] = f"Bearer {await token_for(client)}"
            user = await make_user(client)
            tx = await make_tx(client, user)
            del client.headers["Authorization"]
            nested = "[" * 100_000 + "]" * 100_000
            headers = {"Content-Type": "application/json"}
            for path in (f"{WEB}/{tx['id']}/sessions", f"{WEB}/{tx['id']}/documents"):
                response = await client.post(path, content=nested, headers=headers)
                body = assert_envelope(response, 400, "INVALID_REQUEST")
                assert f"deeper than {MAX_JSON_DEPTH} levels" in body["message"]
            client.headers["Authorization"] = f"Bearer {await token_for(client)}"
            over = {"username": "deep", "x": _nest(MAX_JSON_DEPTH)}  # depth 65 with the body
            response = await client.post(f"{API}/users", json=over)
            assert_envelope(response, 400, "INVALID_REQUEST")
            at_limit = {"username": "deep", "x": _nest(MAX_JSON_DEPTH - 1)}
            response = await client.post(f"{API}/users", json=at_limit)
            assert response.status_code == 201, response.text


def _nest(levels: int) -> Any:
    value: Any = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


async def test_wrong_codes_lock_the_link_even_for_the_right_code() -> None:
    sandbox = Sandbox()
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as c:
        c.headers["Authorization"] = f"Bearer {await token_for(c)}"
        tx = await make_tx(c, await make_user(c))
        code = tx["webVerificationCode"]
        wrong = "000000" if code != "000000" else "111111"
        assert (await c.get(f"{WEB}/{tx['id']}", params={"code": code})).status_code == 200
        for attempt in range(1, MAX_CODE_ATTEMPTS):
            response = await c.post(f"{WEB}/{tx['id']}/sessions", json={"code": wrong})
            body = assert_envelope(response, 401, "ACCESS_FAILED")
            assert f"{MAX_CODE_ATTEMPTS - attempt} more wrong code" in body["message"]
        # The right code still works before the last wrong one...
        assert (await c.get(f"{WEB}/{tx['id']}", params={"code": code})).status_code == 200
        last = await c.get(f"{WEB}/{tx['id']}", params={"code": wrong})
        assert_envelope(last, 403, "ACCESS_FAILED", "code")
        # ...and never after: every way in is refused, with the reason and what to do.
        for response in (
            await c.get(f"{WEB}/{tx['id']}", params={"code": code}),
            await c.post(f"{WEB}/{tx['id']}/sessions", json={"code": code}),
            await c.post(f"{WEB}/{tx['id']}/documents", json={"code": code, "type": "Selfie"}),
        ):
            body = assert_envelope(response, 403, "ACCESS_FAILED", "code")
            assert body["details"][0]["code"] == "TOO_MANY_ATTEMPTS"
            assert f"after {MAX_CODE_ATTEMPTS} wrong" in body["message"]
            assert code not in response.text
        # The API (bearer token) still reads the transaction, without the counter in it.
        read = await c.get(f"{API}/users/{tx['user']['id']}/verifyTransactions/{tx['id']}")
        assert read.status_code == 200 and "codeFailures" not in read.text


def test_the_lock_survives_a_restart(tmp_path: Any) -> None:
    path = tmp_path / "s.db"

    async def guess(sandbox: Sandbox, tx_id: str, code: str) -> int:
        async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as c:
            return (await c.get(f"{WEB}/{tx_id}", params={"code": code})).status_code

    async def scenario() -> None:
        first = Sandbox(data_path=path)
        async with httpx.AsyncClient(transport=first.transport(), base_url=first.base_url) as c:
            c.headers["Authorization"] = f"Bearer {await token_for(c)}"
            tx = await make_tx(c, await make_user(c))
        wrong = "000000" if tx["webVerificationCode"] != "000000" else "111111"
        for _ in range(MAX_CODE_ATTEMPTS):
            await guess(first, tx["id"], wrong)
        first.close()
        second = Sandbox(data_path=path)
        assert await guess(second, tx["id"], tx["webVerificationCode"]) == 403
        second.close()

    import asyncio

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({"minutes": 1e308}, "finite"),
        ({"seconds": float("nan")}, "finite"),
        ({"seconds": "nan"}, "finite"),
        ({"seconds": math.inf}, "finite"),
        ({"minutes": "-inf"}, "finite"),
        ({"seconds": -5}, "above 0"),
        ({"seconds": 60, "minutes": -2}, "above 0"),
        ({"seconds": MAX_ADVANCE_SECONDS + 1}, "at most 31622400 seconds"),
        ({"seconds": "soon"}, "must be a number"),
        ({"seconds": [1]}, "must be a number"),
        ({"seconds": True}, "must be a number"),
        ({}, "needs `seconds:` or `minutes:`"),
    ],
)
def test_sandbox_advance_is_bounded_and_the_clock_stays_usable(
    args: dict[str, Any], reason: str
) -> None:
    clock = VirtualClock()
    with use_sandbox(Sandbox(clock=clock)):
        before = clock.now()
        with pytest.raises(RunError) as raised:
            advance_action(None, args, None)  # type: ignore[arg-type]
        assert reason in str(raised.value)
        assert clock.now() == before
        advance_action(None, {"minutes": 2}, None)  # type: ignore[arg-type]
        assert clock.now() == before + 120
        assert clock.utcnow().year == 2026


def test_sandbox_advance_cannot_pass_the_year_9999() -> None:
    clock = VirtualClock(start=253_402_214_400.0 - 100)
    with use_sandbox(Sandbox(clock=clock)), pytest.raises(RunError, match="past the year 9999"):
        advance_action(None, {"seconds": 101}, None)  # type: ignore[arg-type]


async def test_the_admin_clock_is_bounded_too() -> None:
    clock = VirtualClock()
    sandbox = Sandbox(clock=clock, config={"admin": True})
    async with httpx.AsyncClient(transport=sandbox.transport(), base_url=sandbox.base_url) as c:
        headers = {"Content-Type": "application/json"}
        for text in (
            '{"seconds": 1e400}',
            '{"seconds": NaN}',
            '{"seconds": -1}',
            '{"seconds": "60"}',
            f'{{"seconds": {MAX_ADVANCE_SECONDS + 1}}}',
        ):
            response = await c.post("/admin/clock", content=text, headers=headers)
            assert_envelope(response, 400, "INVALID_DATA", "seconds")
        assert clock.now() == VirtualClock().now()
        ok = await c.post("/admin/clock", json={"seconds": 3600})
        assert ok.status_code == 200 and ok.json()["now"].startswith("2026-01-01T01:00:00")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_client_disconnect_is_one_log_line() -> None:
    """The client announces 1000 bytes, sends 10 and leaves: one line, no traceback."""
    ours, server = _Records(), _Records()
    sandbox_log = logging.getLogger("flowengine_connectors.pingone_sandbox")
    uvicorn_log = logging.getLogger("uvicorn.error")
    sandbox_log.addHandler(ours)
    try:
        with ServerThread(Sandbox()) as url:
            uvicorn_log.addHandler(server)
            host, port = url.removeprefix("http://").split(":")
            with socket.create_connection((host, int(port))) as sock:
                sock.sendall(
                    f"POST /{ENV}/as/token HTTP/1.1\r\nHost: x\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    "Content-Length: 1000\r\n\r\ngrant_type".encode()
                )
                time.sleep(0.2)
            deadline = time.monotonic() + 5
            while not ours.records and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        sandbox_log.removeHandler(ours)
        uvicorn_log.removeHandler(server)
    assert [r.getMessage() for r in ours.records] == [
        f"sandbox: the client disconnected during POST /{ENV}/as/token"
    ]
    assert all(r.exc_info is None for r in ours.records)
    assert [r for r in server.records if r.exc_info or r.levelno >= logging.ERROR] == []


async def test_a_cancelled_request_is_one_line_and_stays_cancelled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The CancelledError path (uvicorn cancelling a request whose client left)."""
    import asyncio

    from flowengine_connectors.pingone_sandbox.limits import BodyLimit
    from flowengine_connectors.pingone_sandbox.server import _QUIET_DROPS

    async def cancelled_app(scope: Any, receive: Any, send: Any) -> None:
        raise asyncio.CancelledError

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/x",
        "headers": [],
        "query_string": b"code=1",
    }
    logger = "flowengine_connectors.pingone_sandbox"
    with caplog.at_level(logging.WARNING, logger), pytest.raises(asyncio.CancelledError):
        await BodyLimit(cancelled_app)(scope, None, None)  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records] == [
        "sandbox: GET /v1/x was cancelled (client gone)"
    ]
    # uvicorn's own "Exception in ASGI application" record for it is dropped.
    record = logging.LogRecord(
        "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application", None,
        (asyncio.CancelledError, asyncio.CancelledError(), None),
    )  # fmt: skip
    assert _QUIET_DROPS.filter(record) is False
    other = logging.LogRecord(
        "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application", None,
        (ValueError, ValueError("a real bug"), None),
    )  # fmt: skip
    assert _QUIET_DROPS.filter(other) is True

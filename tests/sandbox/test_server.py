"""The standalone server on 127.0.0.1, and SQLite persistence across a restart."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
import yaml
from flowengine_connectors.pingone_sandbox import Sandbox, ServerThread, load_config
from sandbox_support import API, ENV, make_tx, make_user, token_for

from flowengine import VirtualClock


class Records(logging.Handler):
    """Keeps what uvicorn logs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_served_over_loopback_builds_urls_from_the_host() -> None:
    sandbox = Sandbox()
    logged = Records()
    uvicorn_log = logging.getLogger("uvicorn.error")
    with ServerThread(sandbox) as url:
        uvicorn_log.addHandler(logged)
        async with httpx.AsyncClient(base_url=url) as client:
            client.headers["Authorization"] = f"Bearer {await token_for(client)}"
            user_id = await make_user(client)
            tx = await make_tx(client, user_id)
            assert tx["qrUrl"].startswith(f"{url}/v1/idValidations/webVerifications/")
            assert tx["webVerificationUrl"].startswith(f"{url}/verify-webapp/index.html?")
            page = await client.get(tx["webVerificationUrl"])
            assert page.status_code == 200 and "Step 1: your ID document" in page.text
            sandbox.faults.add({"action": "drop"})
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(f"{API}/users")
            assert (await client.get(f"{API}/users")).status_code == 200
    uvicorn_log.removeHandler(logged)
    # The injected drop is no crash: uvicorn logs no error traceback for it.
    assert [r.getMessage() for r in logged.records if r.levelno >= logging.ERROR] == []


async def test_sqlite_keeps_state_across_restart(tmp_path: Path, clock: VirtualClock) -> None:
    data = tmp_path / "sandbox.db"
    first = Sandbox(clock=clock, data_path=data)
    async with httpx.AsyncClient(transport=first.transport(), base_url=first.base_url) as c:
        token = await token_for(c)
        c.headers["Authorization"] = f"Bearer {token}"
        user_id = await make_user(c, "persisted")
        tx = await make_tx(c, user_id)
        policy = (await c.post(f"{API}/verifyPolicies", json={"name": "kept"})).json()
    first.close()
    assert token.encode() not in data.read_bytes()

    second = Sandbox(clock=clock, data_path=data)
    async with httpx.AsyncClient(transport=second.transport(), base_url=second.base_url) as c:
        c.headers["Authorization"] = f"Bearer {token}"
        user = await c.get(f"{API}/users/{user_id}")
        assert user.status_code == 200 and user.json()["username"] == "persisted"
        again = (await c.get(f"{API}/users/{user_id}/verifyTransactions/{tx['id']}")).json()
        assert again["webVerificationCode"] == tx["webVerificationCode"]
        assert (await c.get(f"{API}/verifyPolicies/{policy['id']}")).status_code == 200
        listed = (await c.get(f"{API}/verifyPolicies")).json()
        assert sum(p["default"] for p in listed["_embedded"]["verifyPolicies"]) == 1
    second.close()


def test_config_file(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "environments": {ENV: {"clients": {"app": "pw"}}},
                "token_lifetime": 120,
                "faults": [{"action": "drop"}],
                "admin": True,
            }
        )
    )
    config = load_config(path)
    assert config.clients(ENV) == {"app": "pw"} and config.clients("other") is None
    assert config.token_lifetime == 120 and config.admin is True
    assert "pw" not in repr(config) and "app" in repr(config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"environment": {}}', r"bad.json: unknown key\(s\) \['environment'\]"),
        ('{"environments": {"e": {}}}', r"environments\.e\.clients"),
        ('{"processing_seconds": "soon"}', r"bad.json: processing_seconds must be a number"),
        ('{"rate_limit": 0}', r"bad.json: rate_limit must be .*requests per second"),
        ('{"faults": [{"action": "explode"}]}', r"bad.json: faults\[0\]: action must be one of"),
    ],
)
def test_bad_config_names_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_config(bad)


async def test_sqlite_keeps_decisions_and_verified_data(
    tmp_path: Path, clock: VirtualClock
) -> None:
    from flowengine_connectors.pingone_sandbox import Phone

    data = tmp_path / "sandbox.db"
    first = Sandbox(clock=clock, data_path=data)
    async with httpx.AsyncClient(transport=first.transport(), base_url=first.base_url) as c:
        c.headers["Authorization"] = f"Bearer {await token_for(c)}"
        user_id = await make_user(c)
        tx = await make_tx(c, user_id)
        await Phone(first).persona(tx["webVerificationUrl"], "success")
    first.close()
    second = Sandbox(clock=clock, data_path=data)
    async with httpx.AsyncClient(transport=second.transport(), base_url=second.base_url) as c:
        c.headers["Authorization"] = f"Bearer {await token_for(c)}"
        url = f"{API}/users/{user_id}/verifyTransactions/{tx['id']}"
        assert (await c.get(url)).json()["transactionStatus"]["status"] == "SUCCESS"
        gov = (await c.get(f"{url}/verifiedData", params={"type": "GOVERNMENT_ID"})).json()
        assert gov["_embedded"]["verifiedData"][0]["data"]["lastName"] == "DOE"
        assert (await c.get(f"{url}/documents")).json()["size"] > 0
    second.close()

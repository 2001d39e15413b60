"""The safety rules: tokens bound to one run and one step, one continue per step, bad input 4xx."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from served import PKCE, authorize, submit
from store_files import stored_bytes

# private: a config from its parsed value, as `--config FILE` gives it
from flowengine._serving.config import parse_config

VALID = {
    "given_name": "Ada",
    "email": "ada@example.com",
    "age": "36",
    "plan": "pro",
    "password": "correct horse",
}


def start(served: Any) -> dict[str, Any]:
    response = served.client.post("/api/runs", json={"flow": "form"})
    assert response.status_code == 201, response.text
    return response.json()


def stored(served: Any, run_id: str) -> dict[str, Any]:
    return asyncio.run(served.server.engine.store.load(run_id)).to_dict()


def test_replayed_forged_and_foreign_tokens_change_nothing(serve: Any) -> None:
    served = serve()
    run, other = start(served), start(served)
    token = run["pending"]["token"]
    before = stored(served, run["id"])
    for bad in ("0" * 64, "", "x", other["pending"]["token"], token.upper()):
        refused = served.client.post(
            run["links"]["continue"], json={"token": bad, "response": VALID}
        )
        assert refused.status_code == 401, bad
        assert refused.json()["error"]["code"] == "INVALID_TOKEN"
    no_token = served.client.post(run["links"]["continue"], json={"response": VALID})
    assert no_token.status_code == 401
    assert stored(served, run["id"]) == before

    moved = served.client.post(run["links"]["continue"], json={"token": token, "response": VALID})
    assert moved.status_code == 200
    after = stored(served, run["id"])
    replay = served.client.post(run["links"]["continue"], json={"token": token, "response": VALID})
    assert replay.status_code == 401
    assert stored(served, run["id"]) == after


def test_pi_flow_refuses_a_bad_token_as_a_failure(serve: Any) -> None:
    served = serve()
    step = authorize(served, "form", PKCE()).json()
    other = authorize(served, "form", PKCE()).json()
    before = stored(served, step["interactionId"])
    for bad in ("f" * 64, other["interactionToken"]):
        refused = submit(served, step, VALID, token=bad)
        assert refused.status_code == 401
        body = refused.json()
        assert body["code"] == 1999 and body["reason"] == "INVALID_TOKEN"
    assert stored(served, step["interactionId"]) == before
    # Another run's interaction id with this run's token: refused too.
    swapped = {**step, "interactionId": other["interactionId"]}
    assert submit(served, swapped, VALID).status_code == 401
    assert submit(served, step, VALID).status_code == 200  # the real one still works


def _race(served: Any, run: dict[str, Any]) -> list[httpx.Response]:
    async def both() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            body = {"token": run["pending"]["token"], "response": VALID}
            return list(
                await asyncio.gather(
                    *(client.post(run["links"]["continue"], json=body) for _ in range(4))
                )
            )

    return asyncio.run(both())


def test_racing_continues_of_one_step_apply_once(serve: Any) -> None:
    served = serve()
    for _ in range(3):
        run = start(served)
        answers = _race(served, run)
        statuses = sorted(r.status_code for r in answers)
        assert statuses.count(200) == 1, [r.text for r in answers]
        assert all(s in (401, 409) for s in statuses if s != 200)
        final = stored(served, run["id"])
        assert final["path"] == ["sign_up", "check_age"]  # the form was answered once
        assert final["waiting"]["node"] == "welcome"


def test_two_servers_sharing_a_store_apply_a_step_once(serve: Any, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    one, two = serve(store=store), serve(store=store)
    assert (tmp_path / "runs.db.serve-key").stat().st_mode & 0o777 == 0o600
    for _ in range(3):
        run = start(one)
        body = {"token": run["pending"]["token"], "response": VALID}
        # The other server reads and continues the same run: no run state in memory.
        assert two.client.get(f"/api/runs/{run['id']}").json()["pending"] == run["pending"]

        async def both(body: dict[str, Any] = body, run_id: str = run["id"]) -> list[int]:
            async with httpx.AsyncClient(timeout=30) as client:
                answers = await asyncio.gather(
                    *(
                        client.post(f"{s.url}/api/runs/{run_id}/continue", json=body)
                        for s in (one, two, one, two)
                    )
                )
            return sorted(a.status_code for a in answers)

        statuses = asyncio.run(both())
        assert statuses.count(200) == 1, statuses
        assert stored(one, run["id"])["path"] == ["sign_up", "check_age"]


def test_continuing_an_ended_run_is_a_4xx(serve: Any) -> None:
    served = serve()
    run = start(served)
    token = run["pending"]["token"]
    served.client.post(run["links"]["cancel"], json={"token": token})
    ended = served.client.post(run["links"]["continue"], json={"token": token, "response": {}})
    assert ended.status_code == 409 and ended.json()["error"]["code"] == "RUN_ENDED"

    step = authorize(served, "form", PKCE()).json()
    cancelled = submit(served, step, None, event="action", action="cancel").json()
    assert cancelled["status"] == "FAILED"
    late = submit(served, step, VALID)
    assert late.status_code == 409 and late.json()["code"] == 1999
    assert "failed" in late.json()["message"]


def test_malformed_and_oversized_bodies_are_4xx(serve: Any) -> None:
    served = serve()
    run = start(served)
    url = run["links"]["continue"]
    before = stored(served, run["id"])
    cases = [
        (b"{not json", 400, "INVALID_REQUEST"),
        (b"[1, 2]", 400, "INVALID_REQUEST"),
        (b"", 400, "INVALID_REQUEST"),
        (b'{"token": "x", "response": [1]}', 400, "INVALID_REQUEST"),
        (b'{"token": "x", "surprise": 1}', 400, "INVALID_REQUEST"),
        (b'{"token": "' + b"a" * 70_000 + b'"}', 413, "BODY_TOO_LARGE"),
    ]
    for raw, status, code in cases:
        answer = served.client.post(url, content=raw, headers={"content-type": "application/json"})
        assert answer.status_code == status, raw[:40]
        assert answer.json()["error"]["code"] == code
    assert stored(served, run["id"]) == before

    step = authorize(served, "form", PKCE()).json()
    href, headers = (
        step["_links"]["next"]["href"],
        {
            "interactionId": step["interactionId"],
            "interactionToken": step["interactionToken"],
        },
    )
    for raw in (b"nope", b'{"parameters": 3}', b'{"parameters": {"eventType": "dance"}}'):
        answer = served.client.post(href, content=raw, headers=headers)
        assert answer.status_code == 400
        assert answer.json()["message"] and answer.json()["code"] != 1999
    big = served.client.post(href, content=b"{" + b" " * 70_000 + b"}", headers=headers)
    assert big.status_code == 413


def test_unknown_form_fields_are_refused_and_keep_the_form(serve: Any) -> None:
    served = serve()
    step = authorize(served, "form", PKCE()).json()
    before = stored(served, step["interactionId"])
    refused = submit(served, step, {**VALID, "is_admin": "yes"})
    assert refused.status_code == 400
    body = refused.json()
    details = body["details"][0]["rawResponse"]["details"]
    assert [d["target"] for d in details] == ["is_admin"]
    assert stored(served, step["interactionId"]) == before
    bad_button = submit(served, step, None, event="action", action="delete_everything")
    assert bad_button.status_code == 400 and "delete_everything" in bad_button.json()["message"]
    assert submit(served, step, VALID).status_code == 200


def test_starts_are_rate_limited_per_client(serve: Any) -> None:
    config = parse_config(
        {
            "environment": "acme",
            "clients": [
                {
                    "client_id": "slow",
                    "redirect_uris": ["http://127.0.0.1:3000/callback"],
                    "starts_per_minute": 2,
                },
                {"client_id": "other", "flows": ["form"]},
            ],
        },
        "test",
    )
    served = serve(config=config)
    statuses = [
        served.client.post("/api/runs", json={"flow": "form", "client_id": "slow"}).status_code
        for _ in range(3)
    ]
    assert statuses == [201, 201, 429]
    other = served.client.post("/api/runs", json={"flow": "form", "client_id": "other"})
    assert other.status_code == 201  # another client has its own allowance
    nameless = served.client.post("/api/runs", json={"flow": "form"})
    assert nameless.status_code == 400  # two clients: a start names its own
    pkce = PKCE()
    limited = authorize(served, "form", pkce, client_id="slow")
    assert limited.status_code == 429 and limited.json()["message"]
    # Only the configured environment and redirect URIs are served.
    assert served.client.get("/local/as/.well-known/openid-configuration").status_code == 404
    dev = authorize(served, "form", pkce, client_id="flowengine-dev")
    assert dev.status_code == 400


def test_a_step_is_claimed_once_across_ledgers_of_one_store(tmp_path: Path) -> None:
    # private: two servers' ledgers on one SQLite store, as two processes have them
    from flowengine._serving.ledger import SQLiteLedger

    one, two = SQLiteLedger(tmp_path / "runs.db"), SQLiteLedger(tmp_path / "runs.db")
    assert one.claim("run", "ask:1:5.000000") is True
    assert two.claim("run", "ask:1:5.000000") is False
    assert two.claim("run", "ask:2:9.000000") is True
    one.save_code("the-code", {"run_id": "run"})
    assert two.use_code("the-code") == {"run_id": "run"}
    assert one.use_code("the-code") is None
    one.close()
    two.close()
    assert b"the-code" not in stored_bytes(tmp_path / "runs.db")  # kept as its SHA-256


def test_odd_tokens_and_deep_json_are_4xx_not_500(serve: Any) -> None:
    served = serve()
    run = start(served)
    for token in ("é" * 64, "\u0000", 12, None, ["x"]):
        answer = served.client.post(
            run["links"]["continue"], json={"token": token, "response": VALID}
        )
        assert answer.status_code in (400, 401), token
    deep = b'{"token": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    nested = served.client.post(
        run["links"]["continue"], content=deep, headers={"content-type": "application/json"}
    )
    assert nested.status_code == 400 and "nested" in nested.json()["error"]["message"]
    step = authorize(served, "form", PKCE()).json()
    latin = served.client.post(
        step["_links"]["next"]["href"],
        json={"parameters": {"eventType": "submit", "data": {"formData": VALID}}},
        headers={"interactionId": step["interactionId"], "interactionToken": b"\xe9" * 64},
    )
    assert latin.status_code == 401 and latin.json()["code"] == 1999
    odd = authorize(served, "form", PKCE(), code_challenge="é" * 43)
    assert odd.status_code == 400


def test_the_plain_api_refuses_fields_a_form_does_not_have(serve: Any) -> None:
    served = serve()
    run = start(served)
    before = stored(served, run["id"])
    answer = served.client.post(
        run["links"]["continue"],
        json={"token": run["pending"]["token"], "response": {**VALID, "emial": "x"}},
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "UNKNOWN_FIELDS" and error["details"][0]["target"] == "emial"
    assert stored(served, run["id"]) == before


def test_authorize_also_takes_a_form_post(serve: Any) -> None:
    served = serve()
    pkce = PKCE()
    form = {
        "client_id": "flowengine-dev",
        "response_type": "code",
        "redirect_uri": "http://localhost:4200/cb",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "state": pkce.state,
        "response_mode": "pi.flow",
        "acr_values": "form",
    }
    answer = served.client.post("/local/as/authorize", data=form)
    assert answer.status_code == 200, answer.text
    assert answer.json()["form"]["name"] == "Create your account"

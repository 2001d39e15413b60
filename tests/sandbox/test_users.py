"""Users: CRUD, SCIM filter, uniqueness, the id-versus-username 404, verifyStatus, errors."""

from __future__ import annotations

import json

import httpx
from sandbox_support import API, assert_envelope, make_user


async def test_create_read_update_delete(client: httpx.AsyncClient) -> None:
    created = await client.post(
        f"{API}/users",
        json={"username": "alice", "email": "alice@example.com", "name": {"given": "Alice"}},
    )
    assert created.status_code == 201
    user = created.json()
    assert user["environment"]["id"] in API
    assert user["_links"]["self"]["href"] == f"http://sandbox.pingone.local{API}/users/{user['id']}"
    assert user["lifecycle"]["status"] == "ACCOUNT_OK" and user["enabled"] is True
    assert user["createdAt"] == "2026-01-01T00:00:00.000Z"

    read = (await client.get(f"{API}/users/{user['id']}")).json()
    assert read["name"] == {"given": "Alice"}

    put = await client.put(f"{API}/users/{user['id']}", json={"username": "alice2"})
    assert put.status_code == 200 and put.json()["username"] == "alice2"
    assert "email" not in put.json()
    patch = await client.patch(f"{API}/users/{user['id']}", json={"email": "n@example.com"})
    assert patch.json()["username"] == "alice2" and patch.json()["email"] == "n@example.com"

    assert (await client.delete(f"{API}/users/{user['id']}")).status_code == 204
    assert_envelope(await client.get(f"{API}/users/{user['id']}"), 404, "NOT_FOUND")


async def test_list_with_filter(client: httpx.AsyncClient) -> None:
    await make_user(client, "alice", email="alice@example.com")
    await make_user(client, "bob", email="bob@example.org")
    everyone = (await client.get(f"{API}/users")).json()
    assert everyone["size"] == 2 and len(everyone["_embedded"]["users"]) == 2
    assert everyone["_links"]["self"]["href"].endswith("/users")
    by_name = (await client.get(f"{API}/users", params={"filter": 'username eq "bob"'})).json()
    assert [u["username"] for u in by_name["_embedded"]["users"]] == ["bob"]
    by_mail = await client.get(f"{API}/users", params={"filter": 'email ew "example.com"'})
    assert [u["username"] for u in by_mail.json()["_embedded"]["users"]] == ["alice"]
    either = await client.get(
        f"{API}/users", params={"filter": 'username eq "alice" or email co "org"'}
    )
    assert either.json()["size"] == 2


async def test_filter_values_unescape_quotes_and_backslashes(client: httpx.AsyncClient) -> None:
    await make_user(client, 'odd\\"name')  # odd\"name
    await make_user(client, "odd")
    text = 'username eq "odd\\\\\\"name"'  # the value escaped: odd\\\"name
    found = (await client.get(f"{API}/users", params={"filter": text})).json()
    assert [u["username"] for u in found["_embedded"]["users"]] == ['odd\\"name']


async def test_bad_filter_names_the_problem(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/users", params={"filter": 'password eq "x"'})
    body = assert_envelope(response, 400, "INVALID_DATA", "filter")
    assert body["details"][0]["code"] == "INVALID_FILTER"
    assert "username" in body["details"][0]["message"]


async def test_filter_errors_never_quote_the_filter_values(client: httpx.AsyncClient) -> None:
    text = 'email eq "ada@example.com" xor username eq "ada"'
    response = await client.get(f"{API}/users", params={"filter": text})
    body = assert_envelope(response, 400, "INVALID_DATA", "filter")
    assert "ada" not in body["details"][0]["message"]
    assert "expected `and` or `or` at character" in body["details"][0]["message"]


async def test_invalid_email_is_named_not_echoed(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{API}/users", json={"username": "u1", "email": "ada@nowhere"})
    body = assert_envelope(response, 400, "INVALID_DATA", "email")
    assert "ada@nowhere" not in json.dumps(body)


async def test_duplicate_username_is_uniqueness_violation(client: httpx.AsyncClient) -> None:
    await make_user(client, "alice")
    body = assert_envelope(
        await client.post(f"{API}/users", json={"username": "Alice"}),
        400,
        "INVALID_DATA",
        "username",
    )
    assert body["details"][0]["code"] == "UNIQUENESS_VIOLATION"
    assert body["details"][0]["message"] == (
        "username is unique and cannot have a value that is already in use"
    )


async def test_username_instead_of_id_explains_the_mistake(client: httpx.AsyncClient) -> None:
    await make_user(client, "alice")
    body = assert_envelope(await client.get(f"{API}/users/alice"), 404, "NOT_FOUND")
    assert "not a user id" in body["message"]
    assert 'filter=username eq "<username>"' in body["message"]
    assert "A user with that username exists" in body["message"]
    assert "alice" not in body["message"]  # a username is personal data: never echoed
    assert "exists" in body["message"]


async def test_validation_errors(client: httpx.AsyncClient) -> None:
    assert_envelope(await client.post(f"{API}/users", json={}), 400, "INVALID_DATA", "username")
    bad_mail = await client.post(f"{API}/users", json={"username": "x", "email": "nope"})
    assert_envelope(bad_mail, 400, "INVALID_DATA", "email")
    text = await client.post(
        f"{API}/users", content="username=x", headers={"Content-Type": "text/plain"}
    )
    assert_envelope(text, 415, "INVALID_REQUEST")
    broken = await client.post(
        f"{API}/users", content="{", headers={"Content-Type": "application/json"}
    )
    assert_envelope(broken, 400, "INVALID_REQUEST")


async def test_verify_status_deprecated_endpoints(client: httpx.AsyncClient) -> None:
    user_id = await make_user(client)
    read = (await client.get(f"{API}/users/{user_id}/verifyStatus")).json()
    assert read["verifyStatus"] == "NOT_INITIATED"
    assert read["_links"]["user"]["href"].endswith(f"/users/{user_id}")
    put = await client.put(f"{API}/users/{user_id}/verifyStatus", json={"verifyStatus": "ENABLED"})
    assert put.status_code == 200 and put.json()["verifyStatus"] == "ENABLED"
    assert (await client.get(f"{API}/users/{user_id}")).json()["verifyStatus"] == "ENABLED"
    bad = await client.put(f"{API}/users/{user_id}/verifyStatus", json={"verifyStatus": "ON"})
    assert_envelope(bad, 400, "INVALID_DATA", "verifyStatus")


async def test_paging_follows_next_links(client: httpx.AsyncClient) -> None:
    for index in range(5):
        await make_user(client, f"user{index}")
    seen, url = [], f"{API}/users?limit=2"
    while url:
        page = (await client.get(url)).json()
        assert page["size"] <= 2
        seen += [u["username"] for u in page["_embedded"]["users"]]
        url = page["_links"].get("next", {}).get("href")
    assert seen == [f"user{index}" for index in range(5)]
    bad = await client.get(f"{API}/users", params={"cursor": "abc"})
    assert_envelope(bad, 400, "INVALID_DATA", "cursor")


async def test_percent_in_a_user_id_is_decoded_once(client: httpx.AsyncClient) -> None:
    # The client escapes `%` as %25; the sandbox must see the id as sent, not decode it twice.
    # The message never echoes the id, so a user named 'a%41' shows which id was seen.
    await make_user(client, "a%41")
    response = await client.get(f"{API}/users/a%2541")
    body = assert_envelope(response, 404, "NOT_FOUND")
    assert "A user with that username exists" in body["message"]

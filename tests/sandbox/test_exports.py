"""The sandbox package's public surface is exactly its sorted __all__."""

import flowengine_connectors.pingone_sandbox as sandbox


def test_all_is_sorted_and_complete() -> None:
    for name in sandbox.__all__:  # the names load lazily: touch each once
        getattr(sandbox, name)
    public = {
        name
        for name, value in vars(sandbox).items()
        if not name.startswith("_") and type(value).__name__ != "module"
    }
    assert sandbox.__all__ == sorted(sandbox.__all__)  # ruff RUF022 (isort-style) order
    assert set(sandbox.__all__) == public - {"annotations"}


def test_default_sandbox_is_one_per_process() -> None:
    from flowengine import SystemClock

    first = sandbox.default_sandbox()
    assert first is sandbox.default_sandbox()
    assert isinstance(first.clock, SystemClock) and hasattr(first.clock, "advance")
    assert first.base_url == "http://sandbox.pingone.local"


async def test_use_sandbox_chooses_the_embedded_one() -> None:
    from flowengine_connectors.pingone.client import PingOneClient

    settings = {"environment_id": "env-a", "client_id": "sandbox-client"}
    settings["client_secret"] = "sandbox-secret"
    settings["region"] = "sandbox"
    process = sandbox.default_sandbox()
    outer, inner = sandbox.Sandbox(), sandbox.Sandbox()
    with sandbox.use_sandbox(outer):
        with sandbox.use_sandbox(inner) as chosen:
            assert chosen is inner and sandbox.default_sandbox() is inner
            async with PingOneClient(settings) as client:
                created = await client.post(client.env_path("users"), json={"username": "u"})
        assert sandbox.default_sandbox() is outer
    assert sandbox.default_sandbox() is process
    # The user was made in the chosen sandbox, and only there.
    assert inner.store.get("user", created.body["id"]) is not None
    assert outer.store.get("user", created.body["id"]) is None
    assert process.store.get("user", created.body["id"]) is None

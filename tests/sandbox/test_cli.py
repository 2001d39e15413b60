"""`flowengine sandbox serve` in a subprocess: served on 127.0.0.1, state kept with --data."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from flowengine_connectors.pingone_sandbox import free_port

# The CLI module is what these tests run (and they stub its server module below).
from flowengine_connectors.pingone_sandbox.cli import sandbox as sandbox_group
from sandbox_support import API, make_user, token_for


def _serve(port: int, *args: str) -> subprocess.Popen[bytes]:
    code = "from flowengine._cli import main; main()"
    argv = [sys.executable, "-c", code, "sandbox", "serve", "--port", str(port), *args]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/verify-webapp/app.js", timeout=0.5)
            return process
        except httpx.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.1)
    process.kill()
    _, err = process.communicate()
    pytest.fail(f"sandbox serve did not start: {err.decode()[-2000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.communicate(timeout=10)


async def test_serve_with_data_file_survives_a_restart(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "state.db"
    base = f"http://127.0.0.1:{port}"
    process = _serve(port, "--data", str(data))
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            client.headers["Authorization"] = f"Bearer {await token_for(client)}"
            user_id = await make_user(client, "survivor")
    finally:
        _stop(process)
    process = _serve(port, "--data", str(data))
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            client.headers["Authorization"] = f"Bearer {await token_for(client)}"
            user = await client.get(f"{API}/users/{user_id}")
            assert user.status_code == 200 and user.json()["username"] == "survivor"
    finally:
        _stop(process)


def test_serve_rejects_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("token_lifetime: -5\n")
    result = CliRunner().invoke(sandbox_group, ["serve", "--config", str(config)])
    assert result.exit_code == 2
    assert "token_lifetime must be a positive whole number" in result.output


def test_serve_says_what_it_serves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The private server module: the test stubs its serve() to check what the CLI passes.
    import flowengine_connectors.pingone_sandbox.server as server

    served: list[dict[str, object]] = []
    monkeypatch.setattr(server, "serve", lambda **options: served.append(options))
    config = tmp_path / "envs.yaml"
    config.write_text("environments: {env-x: {clients: {app: pw}}}\n")
    port = free_port()
    args = ["serve", "--config", str(config), "--port", str(port)]
    result = CliRunner().invoke(sandbox_group, args)
    assert result.exit_code == 0, result.output
    assert f"http://127.0.0.1:{port}: environments env-x (clients from --config)" in result.output
    assert "pw" not in result.output and served[0]["config"] == config
    default = CliRunner().invoke(sandbox_group, ["serve", "--port", str(free_port())])
    assert "any environment, client sandbox-client / sandbox-secret" in default.output


def test_serve_on_a_taken_port_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    # The private server module: the test stubs its serve() to check what the CLI passes.
    import flowengine_connectors.pingone_sandbox.server as server

    monkeypatch.setattr(server, "serve", lambda **options: pytest.fail("served on a taken port"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(sandbox_group, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"Error: cannot listen on 127.0.0.1:{port}: Address already in use" in result.output
    assert "choose another --port" in result.output and "PingOne sandbox on" not in result.output


def test_make_documents_writes_a_personas_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        sandbox_group, ["make-documents", "--persona", "passport", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    written = [Path(line) for line in result.output.splitlines()]
    assert written and all(path.exists() for path in written)
    assert any(path.read_bytes()[:2] == b"\xff\xd8" for path in written)
    unknown = CliRunner().invoke(sandbox_group, ["make-documents", "--persona", "nobody",
                                                 "--out", str(tmp_path)])  # fmt: skip
    assert unknown.exit_code == 2 and "known:" in unknown.output

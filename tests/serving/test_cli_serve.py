"""`flowengine serve` for real: a subprocess on a free port, driven with httpx, then stopped."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from served import FORM_FLOW, ROOT, free_port

from flowengine import load_flow

# private: the command is tested through click's runner when it refuses to start
from flowengine._cli.app import main


class Process:
    def __init__(self, args: list[str], cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "flowengine", "serve", *args, "--port", str(self.port)]
        self.proc = subprocess.Popen(
            command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"serve exited {self.proc.returncode}: {self.proc.stderr.read()}"
                )
            try:
                httpx.get(f"{self.url}/api/flows", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("serve did not start")

    def stop(self) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=20)
        return self.proc.returncode, out, err


@pytest.fixture
def process(tmp_path: Path) -> Iterator[Any]:
    started: list[Process] = []

    def make(*args: str) -> Process:
        p = Process(list(args), tmp_path)
        started.append(p)
        p.wait_ready()
        return p

    yield make
    for p in started:
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.communicate()


def test_serve_drives_a_form_flow_over_the_plain_api(process: Any, tmp_path: Path) -> None:
    served = process(FORM_FLOW, "--store", "sqlite:///runs.db")
    with httpx.Client(base_url=served.url) as client:
        run = client.post("/api/runs", json={"flow": "form"}).json()
        response = {
            "given_name": "Grace",
            "email": "grace@example.com",
            "age": "40",
            "plan": "free",
            "password": "a long password",
        }
        token = run["pending"]["token"]
        welcome = client.post(
            f"/api/runs/{run['id']}/continue", json={"token": token, "response": response}
        ).json()
        assert welcome["pending"]["data"]["title"] == "Welcome, Grace"
        done = client.post(
            f"/api/runs/{run['id']}/continue", json={"token": welcome["pending"]["token"]}
        ).json()
        assert done["status"] == "completed"
    code, out, err = served.stop()
    assert code == 0, err
    assert "DEVELOPMENT DEFAULTS" in out and "flowengine-dev" in out
    assert f"{served.url}/local/as/.well-known/openid-configuration" in out
    assert "a long password" not in out + err  # what a person typed stays out of the log
    assert (tmp_path / "runs.db.serve-key").exists()
    # The run is in the store: the CLI reads it after the server stopped.
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    shown = CliRunner().invoke(main, ["runs", "show", run["id"], "--store", store])
    assert shown.exit_code == 0 and "completed" in shown.output


def test_serve_finds_the_flows_of_a_folder_and_skips_answers_files(process: Any) -> None:
    served = process(str(ROOT / "flows"), "--store", "memory:")
    flows = httpx.get(f"{served.url}/api/flows").json()["flows"]
    ids = sorted(f["id"] for f in flows)
    expected = sorted(
        load_flow(p).id
        for p in (ROOT / "flows").rglob("*.yaml")
        if p.parent.name in ("flows", "examples")
    )
    assert ids == expected and "registration" in ids and "form" in ids
    served.stop()


def test_an_invalid_flow_is_refused_at_start(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("flow: broken\nstart: nowhere\nnodes:\n  a: {use: ui.message}\n")
    result = CliRunner().invoke(main, ["serve", FORM_FLOW, str(broken), "--store", "memory:"])
    assert result.exit_code == 2
    assert "broken.yaml:" in result.output  # the diagnostics, file:line:col
    assert "do not validate" in result.output


def test_a_config_naming_an_unserved_flow_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "serve.yaml"
    config.write_text("clients:\n  - {client_id: app, flows: [registraton]}\n")
    args = ["serve", FORM_FLOW, "--config", str(config), "--store", "memory:"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "registraton" in result.output
    config.write_text("clients: []\n")
    assert CliRunner().invoke(main, args).exit_code == 2


def test_a_missing_flow_path_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["serve", "--store", "memory:"])  # no flows/ here
    assert result.exit_code == 2 and "flows" in result.output


def test_a_run_outlives_a_killed_server(process: Any, tmp_path: Path) -> None:
    # Every continue is saved before it is answered, and the token key is kept beside the
    # store: a server killed without warning loses nothing a client was told.
    first = process(FORM_FLOW, "--store", "sqlite:///runs.db")
    run = httpx.post(f"{first.url}/api/runs", json={"flow": "form"}).json()
    first.proc.send_signal(signal.SIGKILL)
    first.proc.communicate(timeout=20)
    second = process(FORM_FLOW, "--store", "sqlite:///runs.db")
    url = f"{second.url}/api/runs/{run['id']}"
    assert httpx.get(url).json()["pending"]["token"] == run["pending"]["token"]
    response = {
        "given_name": "Ada",
        "email": "ada@example.com",
        "age": "36",
        "plan": "pro",
        "password": "correct horse",
    }
    moved = httpx.post(
        f"{url}/continue", json={"token": run["pending"]["token"], "response": response}
    )
    assert moved.status_code == 200 and moved.json()["pending"]["node"] == "welcome"
    second.proc.send_signal(signal.SIGKILL)
    second.proc.communicate(timeout=20)
    third = process(FORM_FLOW, "--store", "sqlite:///runs.db")
    again = httpx.get(f"{third.url}/api/runs/{run['id']}").json()
    assert again["pending"] == moved.json()["pending"]  # the answered continue was kept
    third.stop()


def test_a_port_in_use_is_refused_with_the_fix() -> None:
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = str(holder.getsockname()[1])
        result = CliRunner().invoke(
            main, ["serve", FORM_FLOW, "--store", "memory:", "--port", port]
        )
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "--port" in result.output

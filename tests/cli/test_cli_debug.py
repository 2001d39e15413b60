"""A capability that raises: the node error names the plugin's file and line; --debug prints
the full traceback; secrets stay redacted in all of it."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowengine import Engine, Registry, VirtualClock, load_flow

# private: tests the CLI through its click group
from flowengine._cli import main

PLUGIN = """
from flowengine import Connector, hookimpl

SETTINGS = {"type": "object", "properties": {"token": {"type": "string"}}}
connector = Connector(name="calc", secret_settings=("token",), settings_schema=SETTINGS)


def helper(value):
    return value / 0  # line 9


@connector.capability(input_schema={"type": "object"}, output_schema={"type": "object"})
def divide(inputs, ctx):
    if ctx.settings.get("token"):
        raise RuntimeError("token was " + ctx.settings["token"])
    return {"q": helper(inputs.get("n", 1))}
"""

FLOW = """
flow: calc
connections:
  calc: {connector: calc, settings: {token: "${CALC_TOKEN:-}"}}
start: call
nodes:
  call:
    use: calc.divide
    with: {n: 4}
"""


@pytest.fixture(autouse=True)
def _quiet_logger() -> Iterator[None]:
    """--debug adds a handler to the `flowengine` logger: take it off after each test."""
    log = logging.getLogger("flowengine")
    handlers, level = list(log.handlers), log.level
    yield
    log.handlers[:] = handlers
    log.setLevel(level)


def _registry(tmp_path: Path) -> Registry:
    (tmp_path / "calc_plugin").mkdir(exist_ok=True)
    (tmp_path / "calc_plugin" / "__init__.py").write_text(PLUGIN, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        import importlib

        module = importlib.import_module("calc_plugin")
        module = importlib.reload(module)
    finally:
        sys.path.remove(str(tmp_path))
    registry = Registry()
    registry.add_connector(module.connector, "calc")
    return registry


async def test_the_error_names_the_plugins_file_and_line(
    tmp_path: Path, clock: VirtualClock
) -> None:
    registry = _registry(tmp_path)
    (tmp_path / "flow.yaml").write_text(FLOW, encoding="utf-8")
    flow = load_flow(tmp_path / "flow.yaml", registry)
    async with Engine(registry, clock=clock, environ={}) as engine:
        run = await engine.start(flow)
    error = run.nodes["call"]["error"]
    assert error is not None
    assert error["code"] == "UNEXPECTED_ERROR"
    assert error["message"] == "ZeroDivisionError: division by zero"
    assert error["exception"] == "ZeroDivisionError"
    assert error["where"] == {
        "file": str(tmp_path / "calc_plugin" / "__init__.py"),
        "line": 9,
        "function": "helper",
    }
    assert run.trace[-1]["error"]["where"]["line"] == 9
    assert run.error is not None and run.error["where"]["function"] == "helper"


def _cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> object:
    registry = _registry(tmp_path)
    (tmp_path / "flow.yaml").write_text(FLOW, encoding="utf-8")
    monkeypatch.setattr("flowengine._cli.common.registry", lambda: registry)
    monkeypatch.setattr("flowengine._cli.runs.registry", lambda: registry)
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(main, [*args], catch_exceptions=False)


def test_run_and_runs_show_print_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _cli(tmp_path, monkeypatch, "run", "flow.yaml", "--store", "sqlite:///runs.db")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    out = result.output  # type: ignore[attr-defined]
    assert "call -> error (UNEXPECTED_ERROR: ZeroDivisionError: division by zero at " in out
    assert "calc_plugin/__init__.py:9 in helper)" in out
    assert "Traceback" not in out
    run_id = out.split("run ")[-1].split()[0]
    shown = CliRunner().invoke(main, ["runs", "show", run_id, "--store", "sqlite:///runs.db"])
    assert "calc_plugin/__init__.py:9 in helper)" in shown.output
    assert '"where"' in shown.output


def test_debug_prints_the_traceback_with_secrets_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cr3t-token-value-42"
    monkeypatch.setenv("CALC_TOKEN", secret)
    result = _cli(tmp_path, monkeypatch, "run", "flow.yaml", "--store", "memory:", "--debug")
    err = result.stderr  # type: ignore[attr-defined]
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: token was [REDACTED]" in err
    assert 'raise RuntimeError("token was " + ctx.settings["token"])' in err
    assert secret not in err and secret not in result.output  # type: ignore[attr-defined]
    plain = _cli(tmp_path, monkeypatch, "run", "flow.yaml", "--store", "memory:", "--json")
    assert "Traceback" not in plain.stderr  # type: ignore[attr-defined]
    data = json.loads(plain.output)  # type: ignore[attr-defined]
    assert data["nodes"]["call"]["error"]["where"]["function"] == "divide"
    assert secret not in plain.output  # type: ignore[attr-defined]

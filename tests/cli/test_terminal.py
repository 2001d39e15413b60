"""What a run shows in a terminal: forms from any plugin, and how to resume a waiting run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flowengine import Interaction

# private: tests the CLI through its click group
from flowengine._cli import main

# private: tests the terminal output directly
from flowengine._cli.terminal import Terminal

FORM_FLOW = "flow: form\nstart: ask\nnodes:\n  ask: {use: ui.form, with: {fields: [email]}}\n"


def test_a_plugin_form_without_labels_or_types_is_shown(capsys: pytest.CaptureFixture[str]) -> None:
    form = Interaction("form", {"fields": [{"name": "code", "required": True}]})
    Terminal().show(None, form)
    assert "  - code: code (text, required)" in capsys.readouterr().out


def test_waiting_run_says_how_to_resume_it_from_the_same_store(
    runner: CliRunner, tmp_path: Path
) -> None:
    flow = tmp_path / "form.yaml"
    flow.write_text(FORM_FLOW)
    store = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    result = runner.invoke(main, ["run", str(flow), "--no-prompt", "--store", store])
    assert result.exit_code == 3
    found = re.search(r"run ([0-9a-f]{32}) waiting", result.output)
    assert found, result.output
    run_id = found.group(1)
    hint = f"`flowengine runs resume {run_id} --store {store} --answers FILE`"
    assert hint in result.output
    shown = runner.invoke(main, ["runs", "show", run_id, "--store", store, "--json"])
    assert json.loads(shown.output)["status"] == "waiting"


def test_default_store_needs_no_store_option(runner: CliRunner, tmp_path: Path) -> None:
    flow = tmp_path / "form.yaml"
    flow.write_text(FORM_FLOW)
    result = runner.invoke(main, ["run", str(flow), "--no-prompt"])
    assert result.exit_code == 3
    assert "--answers FILE`" in result.output and "--store" not in result.output


@pytest.mark.parametrize("typed", ["", "Ada\n"])
def test_prompt_ended_early_leaves_the_run_saved_and_waiting(
    runner: CliRunner, tmp_path: Path, typed: str
) -> None:
    # click.prompt turns Ctrl-C and end of input into click.Abort: the run is already saved.
    flow = tmp_path / "form.yaml"
    flow.write_text(FORM_FLOW.replace("[email]", "[name, email]"))
    result = runner.invoke(main, ["run", str(flow), "--prompt"], input=typed)
    assert result.exit_code == 3, result.output
    found = re.search(r"interrupted; run ([0-9a-f]{32}) is saved, waiting at 'ask'", result.output)
    assert found, result.output
    shown = runner.invoke(main, ["runs", "show", found.group(1), "--json"])
    assert json.loads(shown.output)["status"] == "waiting"


def test_every_line_of_a_message_is_indented(capsys: pytest.CaptureFixture[str]) -> None:
    message = Interaction("message", {"title": "Result", "message": "Verified: JOHN\nChecks: OK"})
    Terminal().show(None, message)
    out = capsys.readouterr().out
    assert "  Verified: JOHN\n  Checks: OK\n" in out


TEXTAREA_FLOW = """\
flow: barcode
start: ask
nodes:
  ask:
    use: ui.form
    with:
      fields:
        - {name: code, label: Barcode text, type: textarea, required: REQUIRED}
        - {name: email}
    next: done
  done: {use: ui.success, with: {result: "{{ nodes.ask.output }}"}}
"""


def run_textarea(
    runner: CliRunner, tmp_path: Path, typed: str, required: bool = True
) -> dict[str, Any]:
    flow = tmp_path / "barcode.yaml"
    flow.write_text(TEXTAREA_FLOW.replace("REQUIRED", "true" if required else "false"))
    result = runner.invoke(main, ["run", str(flow), "--prompt"], input=typed)
    assert result.exit_code == 0, result.output
    assert "Barcode text (several lines: end with an empty line" in result.output
    found = re.search(r"completed\n(\{.*\})\n", result.output, re.S)
    assert found, result.output
    return dict(json.loads(found.group(1))["result"])


def test_a_textarea_field_reads_lines_until_an_empty_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    typed = "@\n  ANSI 636014\nDAQ D1234567 \n\nada@example.com\n"
    result = run_textarea(runner, tmp_path, typed)
    # Every line as typed (edges kept), joined by line breaks; the next field comes after.
    assert result == {"code": "@\n  ANSI 636014\nDAQ D1234567 ", "email": "ada@example.com"}


def test_a_required_textarea_asks_again_when_left_empty(runner: CliRunner, tmp_path: Path) -> None:
    result = run_textarea(runner, tmp_path, "\none\ntwo\n\nada@example.com\n")
    assert result["code"] == "one\ntwo"


def test_an_optional_textarea_left_empty_is_null(runner: CliRunner, tmp_path: Path) -> None:
    result = run_textarea(runner, tmp_path, "\nada@example.com\n", required=False)
    assert result == {"code": None, "email": "ada@example.com"}


def _event(outcome: str) -> dict[str, Any]:
    return {"node": "call", "parent": None, "visit": 1, "duration_ms": 1.0, "outcome": outcome}


def test_retrying_and_interrupted_lines(capsys: pytest.CaptureFixture[str]) -> None:
    terminal = Terminal()
    error = {"code": "REQUEST_LIMITED", "message": "Too many requests"}
    terminal.on_event({**_event("retrying"), "error": error, "attempt": 1, "retry_in": 2.0})
    stopped = {"code": "INTERRUPTED", "message": "Run interrupted during node 'call'"}
    terminal.on_event({**_event("interrupted"), "error": stopped})
    where = {"file": "plugins/calc.py", "line": 12, "function": "divide"}
    broke = {"code": "UNEXPECTED_ERROR", "message": "ZeroDivisionError: x", "where": where}
    terminal.on_event({**_event("error"), "error": broke})
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "  call -> retrying (REQUEST_LIMITED: Too many requests)  attempt 1, again in 2 s",
        "  call -> interrupted (INTERRUPTED: Run interrupted during node 'call')  1.0 ms",
        "  call -> error (UNEXPECTED_ERROR: ZeroDivisionError: x at plugins/calc.py:12 in divide)"
        "  1.0 ms",
    ]

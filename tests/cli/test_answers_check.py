"""Answers files are checked against the flow before the run starts, every problem at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from flowengine import Answers, check_answers, load_flow, load_registry

# private: tests the CLI through its click group
from flowengine._cli import main

ROOT = Path(__file__).resolve().parents[2]
REGISTRATION = ROOT / "flows" / "registration.yaml"


def _problems(tmp_path: Path, text: str, flow: Path = REGISTRATION) -> list[str]:
    answers_file = tmp_path / "answers.yaml"
    answers_file.write_text(text)
    answers = Answers.load(answers_file)
    registry = load_registry()
    found = check_answers(answers.responses, answers.source, load_flow(flow, registry), registry)
    return [str(d).replace(f"{answers_file}:", "") for d in found]


def test_a_shipped_answers_file_has_no_problem(tmp_path: Path) -> None:
    text = (ROOT / "flows" / "registration" / "late-scan.yaml").read_text()
    assert _problems(tmp_path, text) == []


def test_every_problem_is_reported_with_its_place_and_fix(tmp_path: Path) -> None:
    text = """\
get_user_details:
  given_name: Ada
  famly_name: Lovelace
  email: ada@example.com
show_qr_code: {do: phoen, persona: success}
create_user: {}
show_qr_cod: {}
display_user_data: [~, 42]
"""
    assert _problems(tmp_path, text) == [
        "3:3: FA004 the answer for node 'get_user_details' fills field 'famly_name', which its "
        "form does not have; did you mean 'family_name'?",
        "5:20: FA005 the answer for node 'show_qr_code' uses action 'phoen', which no plugin "
        "has; did you mean 'phone'?",
        "6:1: FA002 answers node 'create_user', but pingone.createUser never asks for an answer "
        "(only screens do: forms, QR codes, messages); remove the entry",
        "7:1: FA001 answers node 'show_qr_cod', which flow 'registration' does not have; did "
        "you mean 'show_qr_code'?",
        "8:24: FA003 the answer for node 'display_user_data' is an int, not an object; write "
        "field values (display_user_data: {email: a@b.c}), {} to continue, or an action "
        "({do: <name>})",
    ]


def test_a_form_button_is_no_field(tmp_path: Path) -> None:
    flow = tmp_path / "buttons.yaml"
    flow.write_text(
        "flow: buttons\nstart: ask\nnodes:\n"
        "  ask:\n    use: ui.form\n"
        "    with: {fields: [email], buttons: {Cancel: cancelled}}\n"
        "    on: {cancelled: ask}\n"
    )
    assert _problems(tmp_path, "ask: {action: cancelled}\n", flow) == []


@pytest.mark.parametrize("fixed", [False, True])
def test_the_cli_refuses_the_answers_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fixed: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    store = tmp_path / "runs.db"
    answers = tmp_path / "answers.yaml"
    field = "email" if fixed else "emial"
    answers.write_text(f"ask: {{{field}: ada@example.com}}\nnope: {{}}\n")
    flow = tmp_path / "ask.yaml"
    flow.write_text(
        "flow: ask\nstart: ask\nnodes:\n  ask: {use: ui.form, with: {fields: [email]}}\n"
    )
    args = ["run", str(flow), "--answers", str(answers), "--store", f"sqlite:///{store}"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert f"{answers} has {1 if fixed else 2} problem" in result.output or fixed
    assert "FA001 answers node 'nope'" in result.output
    assert ("FA004" in result.output) is not fixed
    assert "Traceback" not in result.output
    # Nothing ran: no run was stored.
    listed = CliRunner().invoke(main, ["runs", "list", "--store", f"sqlite:///{store}"])
    assert "ask" not in listed.output.replace(str(tmp_path), "")

"""`flowengine run` and `flowengine runs ...`: exit codes, output, stores, traces, prompts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

# private: tests the CLI through its click group
from flowengine._cli import main

QR_FLOW = """\
flow: qr
start: show
nodes:
  show:
    use: ui.qr
    with: {url: "https://verify.example/t/42", title: Scan me, poll_interval: 0.01}
    on: {success: done}
  done:
    use: ui.success
    with: {result: scanned}
"""


def run_id_of(output: str) -> str:
    found = re.search(r"run ([0-9a-f]{32}) (completed|failed|waiting)", output)
    assert found, output
    return found.group(1)


def test_run_completes(runner: CliRunner, examples: Path) -> None:
    result = runner.invoke(main, ["run", str(examples / "loop.yaml"), "--input", "limit=4"])
    assert result.exit_code == 0, result.output
    assert "  check (visit 4) -> false" in result.output
    assert "completed" in result.output
    assert '"count": 4' in result.output
    assert (Path.cwd() / ".flowengine" / "runs.db").is_file()  # the default store


def test_run_json(runner: CliRunner, examples: Path) -> None:
    result = runner.invoke(main, ["run", str(examples / "loop.yaml"), "--json"])
    assert result.exit_code == 0
    run = json.loads(result.output)
    assert run["status"] == "completed"
    assert run["result"] == {"result": {"count": 3}}
    assert run["path"] == ["bump", "check"] * 3 + ["done"]


def test_run_inputs_file_and_parallel(runner: CliRunner, examples: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs.yaml"
    inputs.write_text("email: ada@example.com\nage: 36\n")
    args = ["run", str(examples / "parallel.yaml"), "--inputs", str(inputs), "--json"]
    result = runner.invoke(main, [*args, "--input", "country=FR"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["result"] == {
        "result": {"status": "ACCEPTED", "country": "FR"}
    }
    refused = runner.invoke(main, [*args, "--input", "age=12"])
    assert refused.exit_code == 1
    assert json.loads(refused.output)["error"]["code"] == "REFUSED"


def test_run_with_answers_and_failure(runner: CliRunner, examples: Path) -> None:
    flow = str(examples / "form.yaml")
    ok = runner.invoke(main, ["run", flow, "--answers", str(examples / "form" / "valid.yaml")])
    assert ok.exit_code == 0, ok.output
    assert "! email: Email is not an email address" in ok.output
    assert "Welcome, Ada" in ok.output
    cancelled = runner.invoke(
        main, ["run", flow, "--answers", str(examples / "form" / "cancel.yaml")]
    )
    assert cancelled.exit_code == 1
    assert "failed" in cancelled.output and '"code": "CANCELLED"' in cancelled.output


def test_waiting_run_listed_shown_and_resumed(runner: CliRunner, examples: Path) -> None:
    waiting = runner.invoke(main, ["run", str(examples / "form.yaml")])
    assert waiting.exit_code == 3, waiting.output
    assert "- email: Email (email, required)" in waiting.output
    run_id = run_id_of(waiting.output)
    listed = runner.invoke(main, ["runs", "list"])
    assert listed.exit_code == 0
    assert re.search(rf"{run_id}\s+waiting\s+form\s+sign_up", listed.output), listed.output
    shown = runner.invoke(main, ["runs", "show", run_id])
    assert shown.exit_code == 0 and "waiting at sign_up" in shown.output
    response = {
        "given_name": "Bo",
        "email": "bo@example.com",
        "age": 12,
        "plan": "free",
        "password": "long enough",
    }
    resumed = runner.invoke(main, ["runs", "resume", run_id, "--response", json.dumps(response)])
    assert resumed.exit_code == 1, resumed.output  # too young: ui.error ends the run failed
    assert '"code": "TOO_YOUNG"' in resumed.output
    shown = json.loads(runner.invoke(main, ["runs", "show", run_id, "--json"]).output)
    assert shown["status"] == "failed" and shown["path"][-1] == "too_young"
    again = runner.invoke(main, ["runs", "resume", run_id])
    assert again.exit_code == 2 and "not waiting" in again.output


def test_resume_with_answers_file(runner: CliRunner, examples: Path) -> None:
    run_id = run_id_of(runner.invoke(main, ["run", str(examples / "form.yaml")]).output)
    answers = str(examples / "form" / "valid.yaml")
    resumed = runner.invoke(main, ["runs", "resume", run_id, "--answers", answers, "--json"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.output)["result"]["result"]["email"] == "ada@example.com"


def test_runs_show_unknown(runner: CliRunner) -> None:
    result = runner.invoke(main, ["runs", "show", "nope"])
    assert result.exit_code == 2 and "nope" in result.output
    assert runner.invoke(main, ["runs", "list"]).output.strip() == "no runs"


def test_explicit_store(runner: CliRunner, examples: Path, tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'elsewhere' / 'r.db'}"
    result = runner.invoke(main, ["run", str(examples / "loop.yaml"), "--store", store])
    assert result.exit_code == 0
    run_id = run_id_of(result.output)
    assert run_id in runner.invoke(main, ["runs", "list", "--store", store]).output
    assert "no runs" in runner.invoke(main, ["runs", "list"]).output


def test_prompt_asks_form_fields(runner: CliRunner, examples: Path) -> None:
    typed = "\n".join(["success", "Ada", "ada@example.com", "36", "pro", "correct horse", ""])
    result = runner.invoke(main, ["run", str(examples / "form.yaml"), "--prompt"], input=typed)
    assert result.exit_code == 0, result.output
    assert "Given name:" in result.output and "correct horse" not in result.output
    assert '"email": "ada@example.com"' in result.output


def test_prompt_cancel_button(runner: CliRunner, examples: Path) -> None:
    result = runner.invoke(main, ["run", str(examples / "form.yaml"), "--prompt"], input="cancel\n")
    assert result.exit_code == 1
    assert "CANCELLED" in result.output


def test_trace_file_redacts_form_values(runner: CliRunner, examples: Path, tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    answers = str(examples / "form" / "valid.yaml")
    args = ["run", str(examples / "form.yaml"), "--answers", answers, "--trace", str(trace)]
    assert runner.invoke(main, args).exit_code == 0
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    assert [(e["node"], e["outcome"]) for e in events][-3:] == [
        ("welcome", "waiting"),
        ("welcome", "success"),
        ("done", "success"),
    ]
    text = trace.read_text()
    assert "correct horse" not in text and "ada@example.com" not in text


def test_qr_drawn_and_continued_after_poll(runner: CliRunner, tmp_path: Path) -> None:
    flow = tmp_path / "qr.yaml"
    flow.write_text(QR_FLOW)
    result = runner.invoke(main, ["run", str(flow)])
    assert result.exit_code == 0, result.output
    assert "Scan me" in result.output and "https://verify.example/t/42" in result.output
    assert "waiting 0.01 s before continuing" in result.output
    assert sum(line.count("█") for line in result.output.splitlines()) > 50  # the code itself
    assert '"result": "scanned"' in result.output


def test_run_bad_options(runner: CliRunner, examples: Path, tmp_path: Path) -> None:
    flow = str(examples / "loop.yaml")
    bad_input = runner.invoke(main, ["run", flow, "--input", "nonsense"])
    assert bad_input.exit_code == 2 and "name=value" in bad_input.output
    answers = tmp_path / "a.yaml"
    answers.write_text("no_such_node: {}\n")
    typo = runner.invoke(main, ["run", flow, "--answers", str(answers)])
    assert typo.exit_code == 2 and "no_such_node" in typo.output
    bad_type = runner.invoke(main, ["run", flow, "--input", "limit=500"])
    assert bad_type.exit_code == 2 and "limit" in bad_type.output


def test_graph_highlights_a_run(runner: CliRunner, examples: Path) -> None:
    run_id = run_id_of(
        runner.invoke(
            main,
            [
                "run",
                str(examples / "form.yaml"),
                "--answers",
                str(examples / "form" / "cancel.yaml"),
            ],
        ).output
    )
    result = runner.invoke(main, ["graph", str(examples / "form.yaml"), "--run", run_id])
    assert result.exit_code == 0
    assert "class n_sign_up visited" in result.output
    assert "class n_cancelled failed" in result.output
    lines = result.output.splitlines()
    edges = [line.strip() for line in lines if "-->" in line or "-.->" in line]
    taken = re.search(r"linkStyle ([\d,]+) ", result.output)
    assert taken
    chosen = {edges[int(i)] for i in taken.group(1).split(",")}
    assert chosen == {"start__ --> n_sign_up", 'n_sign_up -->|"cancel"| n_cancelled'}
    dot = runner.invoke(
        main, ["graph", str(examples / "form.yaml"), "--run", run_id, "--format", "dot"]
    ).output
    assert '"sign_up" -> "cancelled" [label="cancel", color="#28a745", penwidth=3];' in dot


QR_TWICE = """\
flow: qr-twice
variables: {n: 0}
start: show
nodes:
  show:
    use: ui.qr
    with: {url: "https://verify.example/t/7", poll_interval: 0.01}
    on: {success: bump}
  bump:
    use: variables.increment
    with: {name: n}
    on: {success: again}
  again:
    use: functions.compare
    with: {left: "{{ vars.n }}", operator: less, right: 2}
    on: {"true": show, "false": done}
  done:
    use: ui.success
    with: {result: "{{ vars.n }}"}
"""


def test_qr_shown_again_is_not_redrawn(runner: CliRunner, tmp_path: Path) -> None:
    flow = tmp_path / "qr2.yaml"
    flow.write_text(QR_TWICE)
    result = runner.invoke(main, ["run", str(flow)])
    assert result.exit_code == 0, result.output
    assert result.output.count("(the same QR code as above)") == 1
    assert result.output.count("waiting 0.01 s before continuing") == 2
    assert "show (visit 2) -> success" in result.output


def test_plugin_commands_are_added(runner: CliRunner) -> None:
    # The sandbox plugin adds `sandbox` through register_commands, like any plugin would.
    result = runner.invoke(main, ["sandbox", "--help"])
    assert result.exit_code == 0 and "serve" in result.output
    assert "sandbox" in runner.invoke(main, ["--help"]).output


def test_graph_of_a_waiting_parallel_run(runner: CliRunner, examples: Path) -> None:
    waiting = runner.invoke(main, ["run", str(examples / "form.yaml")])
    run_id = run_id_of(waiting.output)
    out = runner.invoke(main, ["graph", str(examples / "form.yaml"), "--run", run_id]).output
    assert "class n_sign_up waiting" in out and "visited" not in out.split("classDef")[-1]
    done = runner.invoke(
        main,
        [
            "run",
            str(examples / "parallel.yaml"),
            "--input",
            "email=a@example.com",
            "--input",
            "age=30",
        ],
    )
    run_id = run_id_of(done.output)
    out = runner.invoke(
        main, ["graph", str(examples / "parallel.yaml"), "--run", run_id, "--format", "dot"]
    ).output
    assert '"checks" -> "adult" [style=dashed, color="#28a745", penwidth=3];' in out
    assert '"refuse" [label="refuse\\nui.error", shape=box];' in out  # not visited: plain


def test_ctrl_c_leaves_the_run_resumable(
    runner: CliRunner, examples: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # private: tests the terminal output directly
    from flowengine._cli.terminal import Terminal

    def interrupted(self: Terminal, node_id: str, interaction: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Terminal, "prompt", interrupted)
    result = runner.invoke(main, ["run", str(examples / "form.yaml"), "--prompt"])
    assert result.exit_code == 3
    found = re.search(r"run ([0-9a-f]{32}) is saved, waiting at 'sign_up'", result.output)
    assert found, result.output
    resumed = runner.invoke(
        main, ["runs", "resume", found.group(1), "--answers", str(examples / "form" / "valid.yaml")]
    )
    assert resumed.exit_code == 0, resumed.output

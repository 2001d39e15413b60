"""What a user gets wrong on the command line: one `Error:` line naming the place and the
fix, exit code 2 (nothing ran), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

# private: tests the CLI through its click group
from flowengine._cli import main

OK_FLOW = """\
flow: ok
start: hello
nodes:
  hello: {use: ui.message, with: {title: hi}}
"""
FORM_FLOW = """\
flow: form
start: ask
nodes:
  ask: {use: ui.form, with: {fields: [email]}}
"""


@pytest.fixture
def ok_flow(tmp_path: Path) -> Path:
    path = tmp_path / "ok.yaml"
    path.write_text(OK_FLOW)
    return path


def _error_line(runner: CliRunner, args: list[str]) -> str:
    """Invoke, assert exit code 2 and no traceback; return the `Error:` line."""
    result = runner.invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


# (option, file text, what the Error: line says; {file} is the file's path)
FILE_CASES = [
    ("--inputs", "limit: 3\nname: [\n", "{file}:3:1: the --inputs file is not valid YAML/JSON"),
    ("--inputs", "- 1\n", "--inputs {file} must hold an object of input values"),
    ("--answers", "hello: {}\nx: {a: [}\n", "{file}:2:9: the answers file is not valid YAML"),
    ("--answers", "- hello\n", "answers file {file} must map node ids to responses"),
    (
        "--answers",
        "helo: {}\n",
        "{file}:1:1: FA001 answers node 'helo', which flow 'ok' does not have; did you mean "
        "'hello'?",
    ),
    (
        "--answers",
        "hello: {}\nhello: {}\n",
        "{file}:2:1: the answers file is not valid YAML/JSON: duplicate key 'hello' (first "
        "written at line 1); remove one of them",
    ),
    (
        "--answers",
        "hello: yes\n",
        "{file}:1:8: FA003 the answer for node 'hello' is a str, not an object; write field values",
    ),
]


@pytest.mark.parametrize(("option", "text", "expected"), FILE_CASES)
def test_bad_inputs_or_answers_file(
    runner: CliRunner, ok_flow: Path, tmp_path: Path, option: str, text: str, expected: str
) -> None:
    bad = tmp_path / "file.yaml"
    bad.write_text(text)
    line = _error_line(runner, ["run", str(ok_flow), option, str(bad)])
    assert expected.format(file=bad) in line


@pytest.mark.parametrize("url", ["foo://x", "postgres://db/runs"])
def test_unknown_store_url(runner: CliRunner, ok_flow: Path, url: str) -> None:
    for args in (["run", str(ok_flow)], ["runs", "list"], ["runs", "show", "x"]):
        line = _error_line(runner, [*args, "--store", url])
        assert f"Unknown run store URL {url!r}; use 'memory:' or 'sqlite:///" in line


def test_store_that_is_not_a_database(runner: CliRunner, tmp_path: Path) -> None:
    garbage = tmp_path / "runs.db"
    garbage.write_text("not a database, just text\n" * 100)
    line = _error_line(runner, ["runs", "list", "--store", f"sqlite:///{garbage}"])
    assert "the run store cannot be read (file is not a database); check --store" in line


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--store", "sqlite:///{blocker}/sub/runs.db", "cannot make the folder {blocker}/sub"),
        ("--trace", "{blocker}/trace.jsonl", "cannot write there"),
    ],
)
def test_path_under_a_file_cannot_be_written(
    runner: CliRunner, ok_flow: Path, tmp_path: Path, option: str, value: str, expected: str
) -> None:
    blocker = tmp_path / "file"  # a file, so nothing can be made below it
    blocker.write_text("")
    value = value.format(blocker=blocker)
    line = _error_line(runner, ["run", str(ok_flow), option, value])
    assert f"{option} {value}: {expected.format(blocker=blocker)}" in line


def _waiting_run(runner: CliRunner, tmp_path: Path) -> str:
    flow = tmp_path / "form.yaml"
    flow.write_text(FORM_FLOW)
    result = runner.invoke(main, ["run", str(flow), "--no-prompt", "--json"])
    assert result.exit_code == 3, result.output

    run_id: str = json.loads(result.output)["id"]
    return run_id


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ("{bad", "--response '{bad' is not JSON"),
        ('"a@b.c"', "must be a JSON object (field values, or {} to continue)"),
    ],
)
def test_a_bad_response_leaves_the_run_waiting(
    runner: CliRunner, tmp_path: Path, response: str, expected: str
) -> None:
    run_id = _waiting_run(runner, tmp_path)
    line = _error_line(runner, ["runs", "resume", run_id, "--response", response])
    assert expected in line
    shown = runner.invoke(main, ["runs", "show", run_id])
    assert shown.output.startswith(f"run {run_id}  waiting"), shown.output


def test_resume_of_a_finished_run(runner: CliRunner, ok_flow: Path) -> None:

    done = runner.invoke(main, ["run", str(ok_flow), "--json"])
    run_id = json.loads(done.output)["id"]
    line = _error_line(runner, ["runs", "resume", run_id])
    assert line == f"Error: run {run_id} is completed, not waiting: nothing to resume"


def test_unknown_run_says_how_to_list_runs(runner: CliRunner) -> None:
    line = _error_line(runner, ["runs", "show", "nope"])
    assert "No run 'nope'" in line
    assert "`flowengine runs list --store sqlite:///.flowengine/runs.db` shows" in line


def test_invalid_flow_run_prints_every_diagnostic_then_how_to_see_them(
    runner: CliRunner, tmp_path: Path
) -> None:
    flow = tmp_path / "bad.yaml"
    flow.write_text("flow: bad\nstart: a\nnodes:\n  a: {use: ui.nope}\n")
    result = runner.invoke(main, ["run", str(flow)])
    assert result.exit_code == 2
    assert f"{flow}:4:12: FE022 connector 'ui' has no capability 'nope'" in result.output
    assert f"Error: {flow} is not a valid flow; nothing ran (`flowengine validate {flow}`" in (
        result.output
    )


def test_broken_plugin_is_one_line_naming_it(
    runner: CliRunner, ok_flow: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowengine import PluginError

    def broken() -> None:
        raise PluginError("connector 'x' is registered twice", plugin="acme")

    monkeypatch.setattr("flowengine._plugins.registry.load_registry", broken)
    line = _error_line(runner, ["validate", str(ok_flow)])
    assert line == "Error: Plugin 'acme': connector 'x' is registered twice"


def test_graph_of_another_flows_run(runner: CliRunner, ok_flow: Path, examples: Path) -> None:
    done = runner.invoke(main, ["run", str(ok_flow), "--json"])
    run_id = json.loads(done.output)["id"]
    line = _error_line(runner, ["graph", str(examples / "loop.yaml"), "--run", run_id])
    assert line == (
        f"Error: run {run_id} is a run of flow 'ok' ({ok_flow}), not of 'loop': "
        f"draw `flowengine graph {ok_flow} --run {run_id}`"
    )


def test_graph_of_a_changed_flow_draws_only_its_nodes(runner: CliRunner, ok_flow: Path) -> None:
    done = runner.invoke(main, ["run", str(ok_flow), "--json"])
    run_id = json.loads(done.output)["id"]
    ok_flow.write_text(OK_FLOW.replace("hello", "greet"))  # the visited node is gone
    result = runner.invoke(main, ["graph", str(ok_flow), "--run", run_id])
    assert result.exit_code == 0, result.output
    assert "n_hello" not in result.output and "n_greet" in result.output


def test_missing_flow_file_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    line = _error_line(runner, ["run", str(missing)])
    assert line == (
        f"Error: {missing}: cannot read the flow file: [Errno 2] No such file or directory: "
        f"'{missing}'"
    )


def test_resume_when_the_runs_flow_file_is_gone(runner: CliRunner, tmp_path: Path) -> None:
    run_id = _waiting_run(runner, tmp_path)
    (tmp_path / "form.yaml").unlink()
    line = _error_line(runner, ["runs", "resume", run_id, "--response", "{}"])
    assert line.endswith("the run started from it: pass the flow with --flow FILE")


def test_resume_from_another_folder_finds_the_flow(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "form.yaml").write_text(FORM_FLOW)
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    started = runner.invoke(main, ["run", "form.yaml", "--no-prompt", "--json", "--store", store])
    run = json.loads(started.output)
    assert run["flow_file"] == str(tmp_path / "form.yaml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    args = ["runs", "resume", run["id"], "--response", '{"email": "a@b.c"}', "--store", store]
    resumed = runner.invoke(main, [*args, "--json"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.output)["result"] == {"email": "a@b.c"}


def test_answers_and_inputs_files_read_yaml_like_flows(tmp_path: Path) -> None:
    # `NO` is Norway and `yes` a word: only true / false are booleans, as in flow files.
    from flowengine import Answers

    # private: tests the CLI's input reading directly
    from flowengine._cli.common import read_inputs

    path = tmp_path / "answers.yaml"
    path.write_text("ask: {country: NO, newsletter: yes, born: 1990-01-01, ok: true}\n")
    expected = {"country": "NO", "newsletter": "yes", "born": "1990-01-01", "ok": True}
    assert Answers.load(path).responses == {"ask": expected}
    assert read_inputs([], str(path)) == {"ask": expected}

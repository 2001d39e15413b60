"""What `flowengine run` and `runs show` say when a node fails or an input is mistyped."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

# private: tests the CLI through its click group
from flowengine._cli import main

ROUTED = """\
flow: routed
inputs:
  type: object
  properties:
    by: {type: string}
    note: {anyOf: [{type: string}, {type: object}]}
start: bump
nodes:
  bump:
    use: variables.increment
    with: {name: count, by: "{{ inputs.by }}"}
    on: {success: done, error: sorry}
  sorry:
    use: ui.success
    with: {result: routed}
  done:
    use: ui.success
    with: {result: "{{ inputs.by }}"}
"""

WHY = (
    "bump -> error (INPUT_INVALID: Node 'bump' input invalid at $.by: "
    "expected number, found a string of 3 characters)"
)


def _flow(tmp_path: Path) -> str:
    path = tmp_path / "routed.yaml"
    path.write_text(ROUTED)
    return str(path)


def test_a_routed_error_shows_its_code_and_message(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["run", _flow(tmp_path), "--input", "by=abc"])
    assert result.exit_code == 0, result.output
    assert WHY in result.output
    assert "sorry -> success" in result.output


def test_runs_show_names_each_node_error(runner: CliRunner, tmp_path: Path) -> None:
    ran = runner.invoke(main, ["run", _flow(tmp_path), "--input", "by=abc"])
    run_id = re.search(r"run ([0-9a-f]{32}) completed", ran.output)
    assert run_id, ran.output
    shown = runner.invoke(main, ["runs", "show", run_id.group(1)])
    assert shown.exit_code == 0, shown.output
    assert f"  {WHY}\n" in shown.output
    assert "  sorry -> success\n" in shown.output


def test_a_number_given_to_a_string_input_stays_text(runner: CliRunner, tmp_path: Path) -> None:
    # `by` is declared a string: `by=123` is the text "123", which the increment then refuses.
    result = runner.invoke(main, ["run", _flow(tmp_path), "--input", "by=123", "--json"])
    assert result.exit_code == 0, result.output
    assert '"result": "routed"' in result.output
    assert "expected number, found a string of 3 characters" in result.output


def test_a_number_for_a_text_alternative_says_how_to_quote_it(
    runner: CliRunner, tmp_path: Path
) -> None:
    args = ["run", _flow(tmp_path), "--input", "by=abc", "--input", "note=42"]
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert "inputs invalid at $.note: expected string or object, found an integer" in result.output
    assert """to pass it as text, quote it: --input 'note="42"'""" in result.output
    quoted = runner.invoke(main, [*args[:-1], 'note="42"'])
    assert quoted.exit_code == 0, quoted.output


def test_input_values_follow_the_declared_type() -> None:
    # private: tests the CLI's input reading directly
    from flowengine._cli.common import read_inputs

    schema = {
        "properties": {
            "id": {"type": "string"},
            "maybe": {"type": ["string", "null"]},
            "count": {"type": "integer"},
            "flag": {"type": ["string", "integer"]},
        }
    }
    pairs = ["id=123", "maybe=null", "count=7", "flag=true", "other=1.5", "id2=007"]
    assert read_inputs(pairs, None, schema) == {
        "id": "123",
        "maybe": None,
        "count": 7,
        "flag": "true",  # a boolean is not an integer here
        "other": 1.5,
        "id2": "007",
    }
    assert read_inputs(["id=123"], None) == {"id": 123}  # no schema: JSON as before


def test_a_number_in_the_inputs_file_says_to_quote_it(runner: CliRunner, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs.yaml"
    inputs.write_text("by: abc\nnote: 42\n")
    result = runner.invoke(main, ["run", _flow(tmp_path), "--inputs", str(inputs)])
    assert result.exit_code == 2
    assert f"to give note as text, write it in quotes in {inputs}" in result.output

"""CLI commands that need no run: validate, connectors, graph, --help, python -m."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

# private: tests the CLI through its click group
from flowengine._cli import main

BROKEN = """\
flow: broken
start: first
nodes:
  first:
    use: functions.compair
    with: {left: 1, operator: equals, right: 1}
    on: {"true": nowhere}
"""


def test_validate_ok(runner: CliRunner, examples: Path) -> None:
    result = runner.invoke(
        main, ["validate", str(examples / "loop.yaml"), str(examples / "form.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert f"{examples / 'loop.yaml'}: ok" in result.output
    assert f"{examples / 'form.yaml'}: ok" in result.output


def test_validate_reports_every_problem(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text(BROKEN)
    result = runner.invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith(str(bad) + ":")]
    assert any(":5:10: FE022" in line and "did you mean 'compare'" in line for line in lines)
    assert any("nowhere" in line for line in lines), lines
    assert all(line.split(": ")[1].split()[0].startswith("FE") for line in lines[:-1]), lines
    assert result.output.rstrip().endswith("error(s)")


def test_validate_json(runner: CliRunner, tmp_path: Path, examples: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text(BROKEN)
    result = runner.invoke(main, ["validate", "--json", str(bad), str(examples / "loop.yaml")])
    assert result.exit_code == 1
    reports = json.loads(result.output)
    assert [r["valid"] for r in reports] == [False, True]
    codes = {d["code"] for d in reports[0]["diagnostics"]}
    assert len(codes) >= 2 and all(c.startswith("FE") for c in codes)
    assert reports[1]["diagnostics"] == []


def test_validate_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    assert "nope.yaml" in result.output


def test_connectors_list(runner: CliRunner) -> None:
    result = runner.invoke(main, ["connectors"])
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines()]
    assert {"functions", "variables", "ui"} <= set(names)


def test_connectors_one(runner: CliRunner) -> None:
    result = runner.invoke(main, ["connectors", "functions"])
    assert result.exit_code == 0
    assert "compare" in result.output and "outcomes: true, false, error" in result.output
    data = json.loads(runner.invoke(main, ["connectors", "ui", "--json"]).output)
    assert {c["name"] for c in data["capabilities"]} == {
        "error",
        "form",
        "message",
        "qr",
        "success",
    }


def test_connectors_capability_schemas(runner: CliRunner) -> None:
    result = runner.invoke(main, ["connectors", "functions", "compare", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["outcomes"] == ["true", "false", "error"]
    assert data["input_schema"]["properties"]["operator"]["enum"][0] == "equals"
    text = runner.invoke(main, ["connectors", "functions", "compare"]).output
    assert "  operator  value  yes       equals | not equals | contains" in text
    assert '"properties"' not in text  # the raw schemas only with --json


def test_connectors_capability_field_table(runner: CliRunner) -> None:
    result = runner.invoke(main, ["connectors", "pingone_verify", "createVerifyTransaction"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) < 80  # was 434 lines of JSON Schema
    assert "outcomes: success, error" in lines
    rows = {line.split()[0]: line for line in lines if line.startswith("  ")}
    assert rows["field"].split()[:4] == ["field", "type", "required", "choices"]
    assert rows["userId"].split()[:3] == ["userId", "string", "yes"]
    assert 'Mobile Web | mobile_web; default "Mobile Web"' in rows["deviceOsType"]
    assert rows["notifyEmail"].split()[1:3] == ["string", "(email)"]
    assert rows["biographic"].split()[1:4] == ["array", "of", "object"]
    assert "given_name | family_name" in rows["biographic[].name"]
    assert rows["transaction.id"].split()[1:3] == ["string", "yes"]
    assert "statusCode" in rows and "input:" in lines and "output:" in lines
    assert lines[-1].endswith("createVerifyTransaction --json")


def test_connectors_unknown(runner: CliRunner) -> None:
    result = runner.invoke(main, ["connectors", "functionz"])
    assert result.exit_code == 2
    assert "did you mean 'functions'" in result.output
    result = runner.invoke(main, ["connectors", "functions", "nope"])
    assert result.exit_code == 2 and "compare, condition, switch" in result.output


def test_graph_mermaid(runner: CliRunner, examples: Path) -> None:
    result = runner.invoke(main, ["graph", str(examples / "form.yaml")])
    assert result.exit_code == 0
    out = result.output
    assert out.startswith("flowchart TD\n")
    assert 'n_sign_up -->|"cancel"| n_cancelled' in out
    assert 'n_check_age -->|"true"| n_too_young' in out
    assert "start__ --> n_sign_up" in out


def test_graph_dot_parallel(runner: CliRunner, examples: Path) -> None:
    result = runner.invoke(main, ["graph", str(examples / "parallel.yaml"), "--format", "dot"])
    assert result.exit_code == 0
    out = result.output
    assert out.startswith('digraph "parallel" {')
    assert '"checks" -> "adult" [style=dashed];' in out
    assert '"decide" -> "welcome" [label="accepted"];' in out
    assert out.rstrip().endswith("}")


def test_graph_invalid_flow(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text(BROKEN)
    result = runner.invoke(main, ["graph", str(bad)])
    assert result.exit_code == 2
    assert "not a valid flow" in result.output


def test_python_dash_m(examples: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flowengine", "validate", str(examples / "loop.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("loop.yaml: ok")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    """Every command below `group` (the lazily loaded `sandbox` group is its own docs' job)."""
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
    return found


@pytest.mark.parametrize(("name", "command"), _commands(main))
def test_every_command_and_option_has_help(name: str, command: click.Command) -> None:
    assert command.help, f"`flowengine {name}` has no help"
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"`flowengine {name}` option {param.opts[0]} has no help"


@pytest.mark.parametrize(("name", "command"), _commands(main))
def test_every_command_is_in_the_cli_docs(name: str, command: click.Command) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    assert f"flowengine {name}" in docs
    for param in command.params:
        if isinstance(param, click.Option) and param.opts[0] != "--help":
            assert param.opts[0] in docs, f"docs/cli.md does not mention {name} {param.opts[0]}"

"""The flow loader: FlowSpec building, diagnostics, and the invalid-flow fixtures."""

from __future__ import annotations

import hashlib
import random
import re
from pathlib import Path

import pytest
from loader_connectors import make_registry

from flowengine import Diagnostic, FlowDefinitionError, Location, Registry, check_flow, load_flow

# private: tests duration parsing directly
from flowengine._reading.loader import parse_duration

HERE = Path(__file__).parent
INVALID = HERE / "invalid_flows"
ROOT = HERE.parent.parent
CASES = sorted(p.stem for p in INVALID.glob("*.yaml"))

VALID = """\
# yaml-language-server: $schema=../schemas/flow.schema.json
flow: registration
title: Registration
inputs:
  type: object
  properties: {policy_id: {type: string}}
variables: {attempts: 0}
connections:
  verify:
    connector: pingone_verify
    settings:
      environment_id: ${PINGONE_ENVIRONMENT_ID:-sandbox-env}
      region: ${PINGONE_REGION:-sandbox}
settings: {max_node_visits: 5, timeout: 1h30m}
start: ask
nodes:
  ask:
    use: ui.form
    title: Your details
    with: {fields: [given_name, email]}
    on: {error: failed}
    next: create
  create:
    use: verify.createVerifyTransaction
    with:
      userId: "{{ nodes.ask.output.email }}"
      biographic:
        - {name: given_name, value: "{{ nodes.ask.output.given_name }}"}
    on: {success: check, error: failed}
  check:
    use: functions.switch
    with: {value: "{{ nodes.create.output.status }}", cases: {OK: ok}, default: retry}
    on: {ok: read, retry: ask, error: failed}
  read:
    parallel:
      government_id:
        use: verify.readGovernmentID
        with: {transactionId: "{{ nodes.create.output.id }}"}
      metadata: {use: verify.readMetaData}
    on: {success: done, error: failed}
  done:
    use: ui.message
    with: {message: "{{ nodes.government_id.output }} {{ nodes.metadata.output }}"}
  failed:
    use: ui.message
    with: {message: "{{ default(nodes.create.error.message, 'sorry') }}"}
"""


@pytest.fixture(scope="module")
def registry() -> Registry:
    return make_registry()


@pytest.mark.parametrize("case", CASES)
def test_invalid_flow_gives_exactly_the_expected_diagnostics(case: str, registry: Registry) -> None:
    source = INVALID / f"{case}.yaml"
    expected = (INVALID / f"{case}.expected").read_text(encoding="utf-8").splitlines()
    spec, diagnostics = check_flow(source.name, registry, text=source.read_text("utf-8"))
    assert [str(d) for d in diagnostics] == expected
    has_errors = any(not re.search(r": FE\d{3} warning: ", line) for line in expected)
    assert (spec is None) == has_errors


def _codes_in_sources() -> set[str]:
    found: set[str] = set()
    for path in sorted((ROOT / "flowengine" / "_reading").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'"(FE\d{3})"', text))
    return found


def test_every_code_is_exercised_by_a_fixture() -> None:
    expected = "".join(p.read_text("utf-8") for p in INVALID.glob("*.expected"))
    exercised = set(re.findall(r": (FE\d{3}) ", expected))
    # FE000 (unreadable file) cannot be a fixture: test_unreadable_file covers it; nor can
    # FE006 (a file past 5 MiB) or FE008 (200,000 values): test_loader_limits.py covers them.
    assert _codes_in_sources() - {"FE000", "FE006", "FE008"} <= exercised


def test_every_code_is_documented() -> None:
    docs = (ROOT / "docs" / "flows.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| (FE\d{3}) \|", docs, re.M))
    assert documented == _codes_in_sources()


def test_valid_flow_builds_spec_and_graph(registry: Registry) -> None:
    spec = load_flow("reg.yaml", registry, text=VALID)
    assert spec.id == "registration" and spec.title == "Registration"
    assert spec.start == "ask"
    assert list(spec.nodes) == ["ask", "create", "check", "read", "done", "failed"]
    assert set(spec.all_nodes) == {*spec.nodes, "government_id", "metadata"}
    assert spec.node("ask").routes == {"success": "create", "error": "failed"}
    assert spec.node("ask").title == "Your details"
    assert spec.node("create").use == "verify.createVerifyTransaction"
    assert spec.node("create").connection == "verify"
    read = spec.node("read")
    assert read.is_parallel and list(read.branches) == ["government_id", "metadata"]
    assert spec.node("metadata").parent == "read" and spec.node("metadata").routes == {}
    assert spec.graph.edges["read", "metadata"]["outcomes"] == ["branch"]
    assert spec.graph.edges["read", "failed"]["outcomes"] == ["error"]
    assert spec.graph.edges["check", "ask"]["outcomes"] == ["retry"]
    assert spec.graph.number_of_nodes() == 8
    assert spec.settings.max_node_visits == 5 and spec.settings.timeout == 5400.0
    assert spec.variables == {"attempts": 0}
    assert spec.inputs_schema["properties"] == {"policy_id": {"type": "string"}}


def test_connections_keep_env_text_and_implicit_ones_are_added(registry: Registry) -> None:
    spec = load_flow("reg.yaml", registry, text=VALID)
    verify = spec.connections["verify"]
    assert verify.connector == "pingone_verify"
    assert verify.settings["environment_id"] == "${PINGONE_ENVIRONMENT_ID:-sandbox-env}"
    assert verify.location == Location("reg.yaml", 9, 3)
    # `use: ui.form` with no `connections: ui` is the ui connector with default settings.
    assert spec.connections["ui"].connector == "ui" and spec.connections["ui"].settings == {}
    assert set(spec.connections) == {"verify", "ui", "functions"}


def test_digest_and_locations(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "reg.yaml"
    path.write_text(VALID, encoding="utf-8")
    spec = load_flow(path, registry)
    assert spec.digest == "sha256:" + hashlib.sha256(VALID.encode()).hexdigest()
    assert spec.file == str(path)
    assert spec.node("create").location == Location(str(path), 23, 3)
    assert spec.location("nodes", "create", "with", "biographic", 0, "value") == Location(
        str(path), 28, 30
    )
    # A path that was never written falls back to its nearest written ancestor.
    assert spec.location("nodes", "done", "with", "nope") == Location(str(path), 43, 5)


def test_load_flow_raises_with_every_diagnostic(registry: Registry) -> None:
    text = VALID.replace("next: create", "next: creat").replace("start: ask", "start: ak")
    with pytest.raises(FlowDefinitionError) as info:
        load_flow("reg.yaml", registry, text=text)
    codes = [d.code for d in info.value.diagnostics]
    assert "FE031" in codes and "FE032" in codes
    assert info.value.flow_file == "reg.yaml"
    assert "did you mean 'create'?" in str(info.value)


def test_warnings_alone_do_not_stop_loading(registry: Registry) -> None:
    text = VALID.replace("    on: {error: failed}\n    next: create", "    next: create")
    spec, diagnostics = check_flow("reg.yaml", registry, text=text)
    assert spec is not None
    assert [d.code for d in diagnostics] == ["FE042"]
    assert diagnostics[0].severity == "warning" and diagnostics[0].node_id == "ask"


def test_unreadable_file() -> None:
    spec, diagnostics = check_flow("/nonexistent/flow.yaml", Registry())
    assert spec is None
    assert [d.code for d in diagnostics] == ["FE000"]
    assert str(diagnostics[0]).startswith("/nonexistent/flow.yaml:1:1: FE000 cannot read")


def test_empty_and_non_mapping_documents() -> None:
    for text in ("", "- a\n- b\n", "just text\n"):
        spec, diagnostics = check_flow("f.yaml", Registry(), text=text)
        assert spec is None
        assert [d.code for d in diagnostics] == ["FE010"]


def test_diagnostic_format_and_dict() -> None:
    error = Diagnostic(Location("f.yaml", 3, 5), "FE032", "route to nowhere", node_id="a")
    warning = Diagnostic(Location("f.yaml", 4, 1), "FE042", "no error route", "warning")
    assert str(error) == "f.yaml:3:5: FE032 route to nowhere"
    assert str(warning) == "f.yaml:4:1: FE042 warning: no error route"
    assert error.to_dict() == {
        "file": "f.yaml",
        "line": 3,
        "col": 5,
        "code": "FE032",
        "severity": "error",
        "message": "route to nowhere",
        "node_id": "a",
        "json_path": None,
    }


def test_literal_input_diagnostic_carries_json_path(registry: Registry) -> None:
    text = VALID.replace("{name: given_name, value:", "{name: 3, value:")
    _, diagnostics = check_flow("reg.yaml", registry, text=text)
    [d] = [d for d in diagnostics if d.code == "FE070"]
    assert d.json_path == "$.biographic[0].name"
    assert d.node_id == "create"
    assert d.location == Location("reg.yaml", 28, 18)


def test_secret_settings_are_never_echoed() -> None:
    from loader_connectors import secret_connector

    registry = Registry()
    registry.add_connector(secret_connector(), "tests")
    text = (
        "flow: s\nconnections:\n  c:\n    connector: vault\n"
        "    settings: {password: 12345678}\nstart: a\nnodes:\n  a: {use: c.get}\n"
    )
    _, diagnostics = check_flow("s.yaml", registry, text=text)
    [d] = diagnostics
    assert d.code == "FE071" and "12345678" not in str(d)
    assert d.json_path == "$.password"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(30, 30.0), (2.5, 2.5), ("90s", 90.0), ("30m", 1800.0), ("1h", 3600.0), ("1h30m", 5400.0)],
)
def test_parse_duration(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


def test_large_flow_loads_without_recursion_or_quadratic_blowup(registry: Registry) -> None:
    # Correctness on a long chain with a shared error handler (the shape that makes naive
    # dominator algorithms quadratic); speed itself is measured in bench/, not here.
    n = 2000
    lines = ["flow: big", "start: n0", "nodes:"]
    for i in range(n):
        previous = f"nodes.n{i - 1}.output" if i else "inputs.x"
        lines += [
            f"  n{i}:",
            "    use: functions.noop",
            f"    with: {{prev: '{{{{ {previous} }}}}'}}",
        ]
        lines.append(f"    on: {{success: n{i + 1}, error: n{n - 1}}}" if i < n - 1 else "")
    text = "\n".join(lines) + "\n"
    spec, diagnostics = check_flow("big.yaml", registry, text=text)
    # n{n-1} is reached from every node's error route, so its read of n{n-2} may not hold.
    assert [d.code for d in diagnostics] == ["FE062"]
    assert spec is not None and spec.graph.number_of_edges() == 2 * (n - 1) - 1


def test_mangled_files_never_crash_and_diagnostics_point_inside_them(registry: Registry) -> None:
    rng = random.Random(7)
    for _ in range(300):
        chars = list(VALID)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(chars))
            if rng.random() < 0.5:
                del chars[i]
            else:
                chars.insert(i, rng.choice(" :{}[]-,'\"\n#&*!x_."))
        text = "".join(chars)
        lines = text.split("\n")
        spec, diagnostics = check_flow("f.yaml", registry, text=text)
        assert (spec is None) == any(d.is_error for d in diagnostics)
        for d in diagnostics:
            line, col = d.location.line, d.location.col
            assert 1 <= line <= len(lines), str(d)
            assert 1 <= col <= len(lines[line - 1]) + 1, str(d)


def test_a_byte_order_mark_is_ignored_but_digested(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    raw = b"\xef\xbb\xbf" + VALID.encode()
    path.write_bytes(raw)
    spec = load_flow(path, registry)
    assert spec.id == "registration"
    assert spec.digest == "sha256:" + hashlib.sha256(raw).hexdigest()


def test_no_diagnostic_echoes_a_secret_written_in_the_file(registry: Registry) -> None:
    text = (INVALID / "connections.yaml").read_text("utf-8")
    assert "hunter2" in text
    _, diagnostics = check_flow("connections.yaml", registry, text=text)
    assert any(d.code == "FE025" for d in diagnostics)
    assert not any("hunter2" in str(d) or "s3cr3t" in str(d) for d in diagnostics)

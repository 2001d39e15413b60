"""The static checks one by one: references, dominators, templates in literal inputs."""

from __future__ import annotations

import random
from pathlib import Path

import networkx as nx
import pytest
from loader_connectors import make_registry

from flowengine import Registry, check_flow, load_registry

# private: tests the dominator tree directly
from flowengine._reading.checks.dominance import immediate_dominators

# private: tests a check's helper directly
from flowengine._reading.checks.graph import unlisted_key

# private: tests reference finding directly
from flowengine._reading.references import find_references

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return make_registry()


def codes(text: str, registry: Registry) -> list[str]:
    return [f"{d.code}@{d.node_id}" for d in check_flow("f.yaml", registry, text=text)[1]]


def test_references_found_with_field_and_guard() -> None:
    value = {
        "a": "{{ nodes.x.output.y }} and {{ nodes['y-z'].error }}",
        "b": ["{{ default(nodes.w.output, nodes.v.output) }}", "{{ nodes.u }}"],
        "c": "{{ inputs.k }} {{ len(nodes.t.output.items) }}",
    }
    refs = [(r.scope, r.node, r.field, r.guarded, r.path) for r in find_references(value, ("w",))]
    assert refs == [
        ("nodes", "x", "output", False, ("w", "a")),
        ("nodes", "y-z", "error", False, ("w", "a")),
        ("nodes", "w", "output", True, ("w", "b", 0)),
        ("nodes", "v", "output", False, ("w", "b", 0)),
        ("nodes", "u", None, False, ("w", "b", 1)),
        ("inputs", "k", None, False, ("w", "c")),
        ("nodes", "t", "output", False, ("w", "c")),
    ]


def test_unknown_names_but_not_comprehension_variables() -> None:
    refs = find_references("{{ [i + x for i in nodes.a.output] }} {{ lenn(run.id) }}", ())
    assert [(r.scope, r.node) for r in refs] == [("nodes", "a"), ("name", "x"), ("name", "lenn")]


def test_unparsable_template_is_reported_once() -> None:
    [ref] = find_references("{{ 1 + }}", ())
    assert ref.syntax_error and ref.expression == "1 +"


@pytest.mark.parametrize("seed", range(40))
def test_dominators_match_networkx(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(2, 60)
    graph = nx.gnp_random_graph(n, rng.choice([0.03, 0.08, 0.2]), directed=True, seed=seed)
    graph = nx.relabel_nodes(graph, {i: f"n{i}" for i in range(n)})
    ours = immediate_dominators(graph, "n0")
    theirs = nx.immediate_dominators(graph, "n0")
    theirs.setdefault("n0", "n0")  # networkx 3.6 leaves the start out
    assert ours == theirs


def test_templates_in_inputs_are_not_judged_statically(registry: Registry) -> None:
    text = """
flow: t
start: a
nodes:
  a:
    use: ui.form
    with: {fields: "{{ inputs.fields }}", title: "{{ inputs.n }}"}
    on: {success: b, error: b}
  b:
    use: functions.compare
    with: {left: 1, operator: "{{ inputs.op }}"}
    on: {true: a, false: a, error: a}
"""
    spec, diagnostics = check_flow("f.yaml", registry, text=text)
    assert diagnostics == [] and spec is not None


def test_templated_switch_cases_skip_the_outcome_check(registry: Registry) -> None:
    text = """
flow: t
start: s
nodes:
  s:
    use: functions.switch
    with: {value: 1, cases: "{{ inputs.cases }}"}
    on: {anything: s, error: s}
"""
    assert codes(text, registry) == []


def test_declared_connection_wins_over_connector_name(registry: Registry) -> None:
    text = """
flow: t
connections:
  ui: {connector: functions}
start: a
nodes:
  a: {use: ui.form}
"""
    [d] = check_flow("f.yaml", registry, text=text)[1]
    assert d.code == "FE022" and "connector 'functions' has no capability 'form'" in d.message


def test_loop_reads_are_warnings_and_dominated_reads_are_fine(registry: Registry) -> None:
    text = """
flow: t
start: a
nodes:
  a:
    use: ui.message
    next: b
    on: {error: c}
  b:
    use: functions.compare
    with: {left: "{{ nodes.a.output }} {{ nodes.c.output }}", operator: equals}
    on: {true: c, false: a, error: c}
  c:
    use: ui.message
    with: {message: "{{ nodes.b.output }}"}
"""
    # b reads c, which runs only after b: no path from c back to b.
    # c reads b, which a's error route skips.
    assert codes(text, registry) == ["FE061@b", "FE062@c"]


def test_nodes_after_a_block_may_read_its_branches(registry: Registry) -> None:
    text = """
flow: t
start: p
nodes:
  p:
    parallel:
      one: {use: ui.message}
      two: {use: ui.message, with: {message: "{{ default(nodes.one.output, '') }}"}}
    on: {success: after, error: after}
  after:
    use: ui.message
    with: {message: "{{ nodes.one.output }} {{ nodes.two.error }}"}
"""
    assert codes(text, registry) == []


def test_error_reads_need_an_error_route(registry: Registry) -> None:
    text = """
flow: t
start: a
nodes:
  a:
    use: ui.message
    next: b
  b:
    use: ui.message
    with: {message: "{{ nodes.a.error.message }}"}
"""
    assert codes(text, registry) == ["FE042@a", "FE063@b"]


def test_flow_schema_is_valid_and_accepts_the_design_example() -> None:
    import json
    import re
    from pathlib import Path

    import jsonschema
    from shared_files import shared_file

    # private: tests the YAML reader directly
    from flowengine._reading.marked_yaml import load_yaml

    root = Path(__file__).parent.parent.parent
    schema = json.loads((root / "schemas" / "flow.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    design = shared_file("DESIGN.md")
    example = re.search(r"```yaml\n(flow: .*?)```", design.read_text("utf-8"), re.S)
    assert example is not None
    doc = load_yaml(example.group(1).replace("{...}", "{}"), "DESIGN.md")
    assert doc.diagnostics == []
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc.data))
    assert [e.message for e in errors] == []


def test_branch_schema_errors_name_the_branch(registry: Registry) -> None:
    text = """
flow: t
start: p
nodes:
  p:
    parallel:
      one: {use: ui.message, on: {success: p}}
"""
    [d] = [d for d in check_flow("f.yaml", registry, text=text)[1] if d.code == "FE010"]
    assert d.node_id == "one" and d.json_path == "$.nodes.p.parallel.one.on"


def test_known_names_agree_with_the_template_evaluator() -> None:
    from flowengine import TemplateError

    # private: tests reference finding directly
    from flowengine._reading.references import KNOWN_NAMES

    # private: tests the template compiler directly
    from flowengine._reading.templating import render

    scope = {"nodes": {}, "inputs": {}, "vars": {}, "run": {"id": "r"}, "error": None}
    for name in sorted(KNOWN_NAMES - {"default"}):
        render(f"{{{{ {name} }}}}", scope)  # evaluates: the name is known at run time too
    with pytest.raises(TemplateError, match="lenn"):
        render("{{ lenn }}", scope)


def test_only_the_declared_fields_give_dynamic_outcomes() -> None:
    # A `default` input is an outcome for a switch, which declares it, and for no one else.
    from flowengine import Connector

    chooser = Connector(name="chooser")
    chooser.capability(
        "pick", outcomes=(), dynamic_outcomes="choices", input_schema={}, output_schema={}
    )(lambda inputs, ctx: {})
    registry = make_registry()
    registry.add_connector(chooser, "test")
    text = """
flow: t
start: a
nodes:
  a:
    use: chooser.pick
    with: {choices: [yes_please], default: fallback}
    on: {yes_please: b, fallback: b, error: b}
  b:
    use: functions.switch
    with: {value: x, cases: {x: one}, default: other}
    on: {one: a, other: a, error: a}
"""
    diagnostics = check_flow("f.yaml", registry, text=text)[1]
    assert [(d.code, d.node_id) for d in diagnostics] == [("FE040", "a")]
    assert "routes outcome 'fallback'" in diagnostics[0].message


def test_references_keep_the_plain_keys_after_the_field() -> None:
    value = (
        "{{ nodes.a.output.user.id }} {{ nodes.b.output['x y'][0].z.lower() }} "
        "{{ nodes.c.output[vars.i].z }} {{ default(nodes.d.error.m, '') }} {{ nodes.e.output }}"
    )
    tails = [(r.scope, r.node, r.field, r.tail) for r in find_references(value, ())]
    assert [t[1:] for t in tails if t[0] == "nodes"] == [
        ("a", "output", ("user", "id")),
        ("b", "output", ("x y", 0, "z")),  # .lower() is a method, not a key
        ("c", "output", ()),  # a computed key ends what can be judged
        ("d", "error", ("m",)),
        ("e", "output", ()),
    ]
    assert [t for t in tails if t[0] != "nodes"] == [("vars", "i", None, ())]  # the key read


@pytest.mark.parametrize(
    ("text", "unclosed"),
    [
        ("{{ nodes.read_id.output }", "{{ nodes.read_id.output }"),
        ("{{ a }} then {{ b", "{{ b"),
        ("{{ a }} }} and { braces }", None),
        ("{ nodes.x.output }} and {{ a }}", "{ nodes.x.output }}"),
        ("{{ a }} {vars.n}}", "{vars.n}}"),
        ("JSON: {a: {b: 1}}", None),
        ("no template {", None),
    ],
)
def test_an_unclosed_template_is_found(text: str, unclosed: str | None) -> None:
    found = [r.expression for r in find_references(text, ()) if r.unclosed]
    assert found == ([unclosed] if unclosed else [])


SPECIFIC = {
    "type": "object",
    "properties": {
        "user": {"type": "object", "properties": {"id": {}}, "additionalProperties": True},
        "list": {
            "type": "array",
            "items": {"properties": {"a": {}}, "additionalProperties": False},
        },
        "strict": {"properties": {"a": {}}, "additionalProperties": False},
        "either": {"anyOf": [{"properties": {"a": {}}}, {"properties": {"b": {}}}]},
        "pattern": {"properties": {"a": {}}, "patternProperties": {"^x-": {}}},
    },
}


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (("user", "id"), None),
        (("usr", "id"), (0, ["user", "list", "strict", "either", "pattern"])),
        (("user", "anything"), None),  # additionalProperties: true allows more
        (("strict", "b"), (1, ["a"])),
        (("list", 3, "a"), None),
        (("list", 3, "b"), (2, ["a"])),
        (("either", "c"), None),  # alternatives are not judged
        (("pattern", "x-trace"), None),
        (("pattern", "y"), (1, ["a"])),
    ],
)
def test_unlisted_key(keys: tuple[str | int, ...], expected: object) -> None:
    assert unlisted_key(SPECIFIC, keys) == expected
    assert unlisted_key({"type": "object"}, keys) is None  # a schema listing nothing


def test_the_flows_read_only_keys_their_output_schemas_list() -> None:
    flows = sorted((ROOT / "flows").glob("*.yaml")) + sorted(
        (ROOT / "flows/examples").glob("*.yaml")
    )
    assert flows
    registry = load_registry()
    for path in flows:
        _, diagnostics = check_flow(str(path), registry)
        assert [str(d) for d in diagnostics if d.code in ("FE067", "FE068")] == []


ACCEPTANCE = """\
flow: acceptance
connections:
  pingone:
    connector: pingone
    settings:
      environment_id: ${PINGONE_ENVIRONMENT_ID:-env}
      client_id: ${PINGONE_CLIENT_ID:-client}
      client_secret: ${PINGONE_CLIENT_SECRET:-secret}
      region: ${PINGONE_REGION:-sandbox}
start: ask
nodes:
  ask:
    use: ui.form
    with: {fields: [{name: email, type: email}]}
    on: {success: create_user, error: failed}
  create_user:
    use: pingone.createUser
    with: {username: "{{ nodes.ask.output.email }}"}
    on: {success: done, error: failed}
  done:
    use: ui.message
    with:
      message: "{{ nodes.create_user.output.usr.id }}"
      title: "{{ nodes.ask.output }"
  failed:
    use: ui.message
    with: {message: sorry}
"""


def test_the_acceptance_cases_with_the_real_connectors() -> None:
    _, diagnostics = check_flow("acceptance.yaml", load_registry(), text=ACCEPTANCE)
    found = {d.code: (str(d.location), d.severity, d.message) for d in diagnostics}
    assert sorted(found) == ["FE067", "FE068"]
    assert found["FE068"][:2] == ("acceptance.yaml:23:16", "warning")
    assert (
        "pingone.createUser's output schema has no 'usr'; did you mean 'user'?"
        in (found["FE068"][2])
    )
    assert found["FE067"][:2] == ("acceptance.yaml:24:14", "error")
    assert found["FE067"][2].endswith("write '{{ nodes.ask.output }}'")


VARS_FLOW = """
flow: f
start: first
nodes:
  first: {FIRST, on: {success: read, error: read}}
  read:
    use: functions.compare
    with: {left: "{{ vars.flag }}", operator: equals}
    on: {"true": last, "false": last, error: last}
  last:
    use: variables.set
    with: {values: {flag: 1}}
"""


@pytest.mark.parametrize(
    ("first", "found"),
    [
        # Sets other names only; `last` sets flag, but the run ends after it.
        ("use: variables.set, with: {values: {other: 1}}", ["FE069@read"]),
        ("use: variables.increment, with: {name: flag}", []),  # sets it
        # Sets a name a template picks: known only when the run renders it.
        ('use: variables.increment, with: {name: "{{ inputs.which }}"}', []),
        ("use: functions.noop, with: {}", []),  # an output without properties may set any
    ],
)
def test_undeclared_variable_reads(first: str, found: list[str], registry: Registry) -> None:
    text = VARS_FLOW.replace("FIRST", first)
    assert [c for c in codes(text, registry) if c.startswith("FE069")] == found


def test_checks_return_their_diagnostics_and_leave_the_document_alone(
    registry: Registry,
) -> None:
    # private: the checks' contract: they return what they find, and check_flow collects it
    from flowengine._reading.checks.structure import run_all

    # private: the document the checks read
    from flowengine._reading.marked_yaml import load_yaml

    text = """
flow: t
start: a
connections:
  spare: {connector: functions}
nodes:
  a: {use: ui.message, with: {message: hi}, next: b}
  b: {use: ui.message, with: {message: "{{ nodes.a.output }}"}}
"""
    spec, expected = check_flow("f.yaml", registry, text=text)
    assert spec is not None
    doc = load_yaml(text, "f.yaml")
    found = run_all(spec, doc, registry)
    assert doc.diagnostics == []
    assert sorted(found, key=str) == sorted(expected, key=str)
    assert found and all(not d.is_error for d in found)
    assert run_all(spec, doc, registry) == found  # the same data again: nothing was kept

"""The built-in connectors inside real runs: variables merged, results and errors ending runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flowengine import Engine, MemoryStore, VirtualClock, load_flow, load_registry

FLOW = """\
flow: builtins
inputs:
  type: object
  properties: {code: {type: string}, n: {type: integer}}
variables: {total: 10}
start: remember
nodes:
  remember:
    use: variables.set
    with: {values: {who: "{{ inputs.code }}", seen: true}}
    next: add
  add:
    use: variables.increment
    with: {name: total, by: "{{ inputs.n }}"}
    next: big
  big:
    use: functions.compare
    with: {left: "total is {{ vars.total }}", operator: contains, right: "1"}
    on: {"true": route, "false": route}
  route:
    use: functions.switch
    with: {value: "{{ inputs.code }}", cases: {A: go_ok, B: go_fail}}
    on: {go_ok: ok, go_fail: refuse, error: no_case}
  ok:
    use: ui.success
    with: {result: {who: "{{ vars.who }}", total: "{{ vars.total }}"}}
  refuse:
    use: ui.error
    with: {code: REFUSED, message: "Code {{ inputs.code }} is refused", status_code: 403}
  no_case:
    use: ui.success
    with: {result: "{{ nodes.route.error.code }}"}
"""


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = tmp_path_factory.mktemp("flows") / "builtins.yaml"
    path.write_text(FLOW)
    return load_flow(path, load_registry())


async def run_with(flow: Any, **inputs: Any) -> Any:
    async with Engine(store=MemoryStore(), clock=VirtualClock()) as engine:
        return await engine.start(flow, inputs)


async def test_variables_and_success(flow: Any) -> None:
    run = await run_with(flow, code="A", n=5)
    assert run.status == "completed"
    assert run.vars == {"total": 15, "who": "A", "seen": True}
    assert run.nodes["big"]["outcome"] == "true"
    assert run.result == {"result": {"who": "A", "total": 15}}


async def test_copied_values_are_hidden_in_the_trace_literals_and_counters_are_not(
    flow: Any,
) -> None:
    run = await run_with(flow, code="A", n=5)
    remember = next(e for e in run.trace if e["node"] == "remember")
    add = next(e for e in run.trace if e["node"] == "add")
    # `who` comes from a template (the person's input), `seen: true` is written in the flow.
    assert remember["input"] == {"values": {"who": "[REDACTED]", "seen": True}}
    assert remember["output"] == {"set_vars": {"who": "[REDACTED]", "seen": True}}
    assert add["output"] == {"value": 15, "set_vars": {"total": 15}}
    assert run.vars["who"] == "A"  # the run itself keeps the real value


async def test_ui_error_fails_the_run(flow: Any) -> None:
    run = await run_with(flow, code="B", n=1)
    assert run.status == "failed"
    assert run.error["node"] == "refuse"
    assert run.error["code"] == "REFUSED"
    assert run.error["message"] == "Code B is refused"
    assert run.error["status_code"] == 403


async def test_switch_without_match_routes_error(flow: Any) -> None:
    run = await run_with(flow, code="Z", n=0)
    assert run.status == "completed"
    assert run.nodes["big"]["outcome"] == "true"  # "total is 10" contains "1"
    assert run.result == {"result": "NO_MATCHING_CASE"}


LITERALS = """\
flow: literals
start: route
nodes:
  route:
    use: functions.switch
    with: {value: B, cases: {B: go_fail}}
    on: {go_fail: refuse}
  refuse:
    use: ui.error
    with: {code: REFUSED, message: Refused by policy, details: [{code: POLICY}]}
"""


async def test_ui_error_text_and_switch_value_from_the_run_are_hidden_in_the_trace(
    flow: Any,
) -> None:
    store = MemoryStore()
    async with Engine(store=store, clock=VirtualClock()) as engine:
        run = await engine.start(flow, {"code": "B", "n": 1})
    route = next(e for e in run.trace if e["node"] == "route")
    refuse = next(e for e in run.trace if e["node"] == "refuse")
    assert route["input"]["value"] == "[REDACTED]"
    assert route["input"]["cases"] == {"A": "go_ok", "B": "go_fail"}
    assert route["output"] == {"value": "[REDACTED]", "matched": True}
    assert refuse["input"]["message"] == "[REDACTED]"
    assert refuse["input"]["code"] == "REFUSED"
    # The error the node raised carries the message; its code and status stay readable.
    assert refuse["error"]["message"] == "[REDACTED]"
    assert refuse["error"]["code"] == "REFUSED"
    assert refuse["error"]["status_code"] == 403
    assert "Code B" not in repr(run.trace)
    # The caller's error and the node's error on the run (stored too) keep the message.
    stored = await store.load(run.id)
    assert stored.error["message"] == "Code B is refused"
    assert stored.nodes["refuse"]["error"]["message"] == "Code B is refused"
    assert stored.nodes["route"]["output"]["value"] == "B"


async def test_literal_error_text_and_switch_value_stay_readable(tmp_path: Path) -> None:
    path = tmp_path / "literals.yaml"
    path.write_text(LITERALS)
    run = await run_with(load_flow(path, load_registry()))
    route = next(e for e in run.trace if e["node"] == "route")
    refuse = next(e for e in run.trace if e["node"] == "refuse")
    assert route["output"] == {"value": "B", "matched": True}
    assert refuse["input"]["message"] == "Refused by policy"
    assert refuse["error"]["message"] == "Refused by policy"
    assert refuse["error"]["details"] == [{"code": "POLICY"}]


async def test_templated_details_are_hidden_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "details.yaml"
    path.write_text(
        LITERALS.replace("details: [{code: POLICY}]", 'details: [{code: "{{ inputs.why }}"}]')
    )
    run = await run_with(load_flow(path, load_registry()), why="DOB_MISMATCH")
    refuse = next(e for e in run.trace if e["node"] == "refuse")
    assert refuse["error"]["details"] == "[REDACTED]"
    assert refuse["error"]["message"] == "Refused by policy"
    assert run.error["details"] == [{"code": "DOB_MISMATCH"}]


COMPARE = """\
flow: compare-email
inputs: {type: object, properties: {email: {type: string}}}
start: same
nodes:
  same:
    use: functions.compare
    with: {left: "{{ inputs.email }}", operator: equals, right: admin@example.com}
    on: {"true": known, "false": known}
  known:
    use: functions.condition
    with: {expression: "{{ inputs.email }}"}
    on: {"true": literal, "false": literal, error: literal}
  literal:
    use: functions.compare
    with: {left: 3, operator: less, right: "{{ 'x' + inputs.email }}"}
    on: {"true": flag, "false": flag, error: flag}
  flag:
    use: functions.condition
    with: {expression: "yes"}
"""


async def test_compare_and_condition_hide_values_from_the_run(tmp_path: Path) -> None:
    path = tmp_path / "compare.yaml"
    path.write_text(COMPARE)
    run = await run_with(load_flow(path, load_registry()), email="ada.lovelace@example.org")
    events = {e["node"]: e for e in run.trace if e.get("input")}
    assert events["same"]["input"] == {
        "left": "[REDACTED]",
        "operator": "equals",
        "right": "admin@example.com",  # written in the flow: stays readable
    }
    assert events["same"]["output"] == {"result": False}
    assert events["known"]["input"] == {"expression": "[REDACTED]"}
    assert events["literal"]["input"]["left"] == 3
    assert events["literal"]["input"]["right"] == "[REDACTED]"
    assert events["flag"]["input"] == {"expression": "yes"}
    assert "ada.lovelace" not in repr(run.trace)
    assert run.nodes["same"]["outcome"] == "false"

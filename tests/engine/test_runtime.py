"""Runtime: routing, outcomes, validation, variables, loops, timeouts, connections."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from runtime_support import EVENTS, load

from flowengine import Engine, Registry, VirtualClock


async def test_routes_follow_outcomes(tmp_path: Path, registry: Registry, engine: Engine) -> None:
    flow = load(
        tmp_path,
        """
        flow: routing
        inputs: {type: object, properties: {go: {type: boolean}}}
        start: decide
        nodes:
          decide:
            use: t.check
            with: {value: "{{ inputs.go }}"}
            on: {"true": yes, "false": no}
          yes:
            use: t.echo
            with: {said: "yes to {{ run.id }}"}
          no:
            use: t.echo
            with: {said: no}
        """,
        registry,
    )
    run = await engine.start(flow, {"go": True})
    assert run.status == "completed"
    assert run.path == ["decide", "yes"]
    assert run.result == {"said": f"yes to {run.id}"}
    assert run.nodes["decide"] == {
        "output": {"value": True},
        "error": None,
        "outcome": "true",
        "visits": 1,
    }
    run = await engine.start(flow, {"go": False})
    assert (run.path, run.result, run.exit_code) == (["decide", "no"], {"said": "no"}, 0)


async def test_unrouted_error_fails_the_run(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(
        tmp_path,
        """
        flow: failing
        start: call
        nodes:
          call:
            use: t.fail
            with: {message: "no such user", code: NOT_FOUND}
        """,
        registry,
    )
    run = await engine.start(flow)
    assert run.status == "failed"
    assert run.exit_code == 1
    assert run.error == {
        "node": "call",
        "code": "NOT_FOUND",
        "message": "no such user",
        "details": [],
        "status_code": 400,
        "correlation_id": None,
    }
    assert run.nodes["call"]["outcome"] == "error"
    assert (await engine.store.load(run.id)).error == run.error  # nothing lost


async def test_routed_error_is_readable_by_later_nodes(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(
        tmp_path,
        """
        flow: handled
        start: call
        nodes:
          call:
            use: t.boom
            with: {detail: here}
            on: {error: report}
          report:
            use: t.echo
            with:
              code: "{{ nodes.call.error.code }}"
              message: "{{ nodes.call.error.message }}"
        """,
        registry,
    )
    run = await engine.start(flow)
    assert run.status == "completed"
    assert run.result == {"code": "UNEXPECTED_ERROR", "message": "ValueError: kaput here"}


async def test_non_success_outcome_without_route_completes(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(
        tmp_path,
        """
        flow: ends
        start: decide
        nodes:
          decide:
            use: t.check
            with: {value: 0}
            on: {"true": other}
          other:
            use: t.echo
        """,
        registry,
    )
    run = await engine.start(flow)
    assert (run.status, run.path, run.result) == ("completed", ["decide"], {"value": 0})


async def test_input_validation_failure_names_json_path(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(
        tmp_path,
        """
        flow: invalid_input
        inputs: {type: object}
        start: create
        nodes:
          create:
            use: t.typed
            with: {userId: "u1", age: "{{ inputs.age }}"}
        """,
        registry,
    )
    run = await engine.start(flow, {"age": "old"})
    assert run.status == "failed"
    assert run.error is not None
    assert run.error["code"] == "INPUT_INVALID"
    assert run.error["json_path"] == "$.age"
    assert (
        run.error["message"]
        == "Node 'create' input invalid at $.age: expected integer, found a string of 3 characters"
    )


async def test_output_validation_failure(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(
        tmp_path,
        """
        flow: invalid_output
        start: create
        nodes:
          create:
            use: t.typed
            with: {userId: "u1", age: 0}
        """,
        registry,
    )
    run = await engine.start(flow)
    assert run.error is not None
    assert run.error["code"] == "OUTPUT_INVALID"
    assert run.error["json_path"] == "$"
    assert (
        "Node 'create' output of t.typed invalid at $: required property 'id' missing"
        in (run.error["message"])
    )


async def test_template_error_is_the_nodes_error(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(
        tmp_path,
        """
        flow: template_error
        start: a
        nodes:
          a:
            use: t.echo
            with: {value: "{{ default(nodes.b.output.x, 1) }}"}
            next: b
          b:
            use: t.echo
            with: {x: "{{ nodes.a.output.valeu }}"}
        """,
        registry,
    )
    run = await engine.start(flow)
    assert run.status == "failed"
    assert run.error is not None
    assert run.error["code"] == "TEMPLATE_ERROR"
    assert run.error["message"] == (
        "Node 'b' input $.x: nodes.a.output has no key 'valeu'; did you mean 'value'? "
        "(expression: nodes.a.output.valeu)"
    )
    assert run.error["field"] == "$.x"


@pytest.mark.parametrize(
    ("capability", "code", "text"),
    [
        (
            "t.undeclared",
            "UNDECLARED_OUTCOME",
            "returned outcome 'weird', which it does not declare",
        ),
        ("t.notdict", "BAD_RESULT", "t.notdict returned list"),
    ],
)
async def test_bad_results_are_errors(
    tmp_path: Path, registry: Registry, engine: Engine, capability: str, code: str, text: str
) -> None:
    flow = load(tmp_path, f"flow: bad\nstart: a\nnodes:\n  a: {{use: {capability}}}\n", registry)
    run = await engine.start(flow)
    assert run.error is not None
    assert run.error["code"] == code
    assert text in run.error["message"]


async def test_set_vars_updates_run_vars(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(
        tmp_path,
        """
        flow: vars
        variables: {attempts: 0, name: x}
        start: one
        nodes:
          one:
            use: t.setvar
            with: {attempts: "{{ vars.attempts + 1 }}"}
            next: two
          two:
            use: t.setvar
            with: {attempts: "{{ vars.attempts + 1 }}", extra: true}
            next: show
          show:
            use: t.echo
            with: {attempts: "{{ vars.attempts }}", name: "{{ vars.name }}"}
        """,
        registry,
    )
    run = await engine.start(flow)
    assert run.vars == {"attempts": 2, "name": "x", "extra": True}
    assert run.result == {"attempts": 2, "name": "x"}
    assert run.nodes["two"]["output"]["seen"] == {"attempts": 1, "name": "x"}
    assert flow.variables == {"attempts": 0, "name": "x"}  # the spec is never changed


LOOP = """
flow: loop
variables: {n: 0}
settings: {max_node_visits: MAX}
start: count
nodes:
  count:
    use: t.setvar
    with: {n: "{{ vars.n + 1 }}"}
    next: test
  test:
    use: t.check
    with: {value: "{{ vars.n < LIMIT }}"}
    on: {"true": count, "false": done}
  done:
    use: t.echo
    with: {n: "{{ vars.n }}", visits: "{{ nodes.count.visits }}"}
"""


async def test_loop_runs_every_iteration(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(tmp_path, LOOP.replace("MAX", "300").replace("LIMIT", "250"), registry)
    run = await engine.start(flow)
    assert run.status == "completed"
    assert run.result == {"n": 250, "visits": 250}
    assert len(run.path) == 501
    assert len(run.trace) == 501


async def test_max_node_visits_fails_naming_the_node(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(tmp_path, LOOP.replace("MAX", "20").replace("LIMIT", "100"), registry)
    run = await engine.start(flow)
    assert run.status == "failed"
    assert run.error is not None
    assert run.error["node"] == "count"
    assert run.error["code"] == "MAX_NODE_VISITS"
    assert (
        "Node 'count' has run 20 times (max_node_visits) and would run again"
        in (run.error["message"])
    )
    assert run.nodes["count"]["visits"] == 20
    assert run.vars == {"n": 20}


async def test_timeout_fails_the_run(
    tmp_path: Path, registry: Registry, engine: Engine, clock: VirtualClock
) -> None:
    flow = load(
        tmp_path,
        """
        flow: slow
        settings: {timeout: 1m}
        start: a
        nodes:
          a:
            use: t.tick
            with: {seconds: 45}
            next: b
          b:
            use: t.tick
            with: {seconds: 30}
            next: c
          c:
            use: t.echo
        """,
        registry,
    )
    run = await engine.start(flow)
    assert run.status == "failed"
    assert run.path == ["a", "b"]
    assert run.error is not None
    assert run.error["code"] == "TIMEOUT"
    assert run.error["node"] == "c"
    assert "more than the flow's timeout of 60s" in run.error["message"]


async def test_inputs_are_checked_and_defaults_applied(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    from flowengine import RunError

    flow = load(
        tmp_path,
        """
        flow: inputs
        inputs:
          type: object
          required: [name]
          properties: {name: {type: string}, lang: {type: string, default: en}}
        start: a
        nodes:
          a: {use: t.echo, with: {name: "{{ inputs.name }}", lang: "{{ inputs.lang }}"}}
        """,
        registry,
    )
    run = await engine.start(flow, {"name": "Ada"})
    assert run.result == {"name": "Ada", "lang": "en"}
    with pytest.raises(
        RunError, match=r"Flow 'inputs' inputs invalid at \$: required property 'name' missing"
    ):
        await engine.start(flow, {})


async def test_connections_opened_once_per_settings_and_closed(
    tmp_path: Path, registry: Registry, clock: VirtualClock
) -> None:
    flow = load(
        tmp_path,
        """
        flow: conns
        connections:
          one: {connector: t, settings: {token: "${TOKEN}", level: 1}}
          two: {connector: t, settings: {token: "${TOKEN}", level: 1}}
          three: {connector: t, settings: {token: "${TOKEN}", level: 2}}
        start: a
        nodes:
          a: {use: one.settings, next: b}
          b: {use: two.settings, next: c}
          c: {use: three.settings}
        """,
        registry,
    )
    connector = registry.connectors["t"]
    engine = Engine(registry, clock=clock, environ={"TOKEN": "tok-123"})
    await engine.start(flow)
    run = await engine.start(flow)
    assert run.result == {"token": "tok-123", "connection": True}
    assert EVENTS.count("open") == 2  # level 1 (shared by one and two) and level 2
    assert [s["settings"]["level"] for s in connector.opened] == [1, 2]  # type: ignore[attr-defined]
    await engine.aclose()
    assert EVENTS.count("close") == 2
    assert all(s["closed"] for s in connector.opened)  # type: ignore[attr-defined]


async def test_bad_settings_name_the_connection(
    tmp_path: Path, registry: Registry, clock: VirtualClock
) -> None:
    engine = Engine(registry, clock=clock, environ={"LEVEL": "high"})
    flow = load(
        tmp_path,
        """
        flow: badsettings
        connections:
          conn: {connector: t, settings: {level: "${LEVEL}"}}
          envless: {connector: t, settings: {token: "${MISSING_VAR}"}}
        start: a
        nodes:
          a: {use: conn.settings, on: {error: b}}
          b: {use: envless.settings}
        """,
        registry,
    )
    run = await engine.start(flow)
    assert run.nodes["a"]["error"]["code"] == "SETTINGS_INVALID"
    # The message names the kind of value, never the value, and where it came from.
    assert run.nodes["a"]["error"]["message"] == (
        "Connection 'conn' settings invalid at $.level: expected integer, found a string of "
        "4 characters (the value comes from $LEVEL)"
    )
    assert run.error is not None
    assert run.error["message"].startswith("Connection 'envless' setting $.token:")
    assert "MISSING_VAR is not set" in run.error["message"]


async def test_run_ids_are_unique(tmp_path: Path, registry: Registry, engine: Engine) -> None:
    flow = load(tmp_path, "flow: ids\nstart: a\nnodes:\n  a: {use: t.echo}\n", registry)
    ids = {(await engine.start(flow)).id for _ in range(50)}
    assert len(ids) == 50


async def test_trace_events_and_sinks(
    tmp_path: Path, registry: Registry, clock: VirtualClock
) -> None:
    from flowengine import JsonlTraceSink

    flow = load(
        tmp_path,
        """
        flow: traced
        start: a
        nodes:
          a: {use: t.tick, with: {seconds: 2}, next: b}
          b: {use: t.fail, with: {message: boom}, on: {error: c}}
          c: {use: t.echo, with: {x: 1}}
        """,
        registry,
    )
    seen: list[dict[str, object]] = []
    path = tmp_path / "trace.jsonl"
    engine = Engine(
        registry, clock=clock, environ={}, trace_sinks=[seen.append, JsonlTraceSink(path)]
    )
    run = await engine.start(flow)
    assert [(e["node"], e["outcome"], e["visit"]) for e in run.trace] == [
        ("a", "success", 1),
        ("b", "error", 1),
        ("c", "success", 1),
    ]
    assert seen == run.trace
    assert run.trace[0]["duration_ms"] == 2000.0
    assert run.trace[1]["error"]["message"] == "boom"
    assert run.trace[2]["input"] == {"x": 1}
    assert len(path.read_text().splitlines()) == 3


async def test_timeout_cancels_a_capability_still_running(
    tmp_path: Path, registry: Registry, engine: Engine, clock: VirtualClock
) -> None:
    flow = load(
        tmp_path,
        """
        flow: hanging
        settings: {timeout: 1m}
        start: a
        nodes:
          a: {use: t.echo, with: {x: 1}, next: b}
          b: {use: t.hang, next: c}
          c: {use: t.echo}
        """,
        registry,
    )
    task = asyncio.ensure_future(engine.start(flow))
    while "hang b" not in EVENTS:
        await asyncio.sleep(0)
    clock.advance(59)
    for _ in range(3):
        await asyncio.sleep(0)
    assert not task.done()  # a minute has not passed yet
    clock.advance(2)
    run = await asyncio.wait_for(task, 5)
    assert run.status == "failed"
    assert run.error is not None
    assert run.error["node"] == "b"
    assert run.error["code"] == "TIMEOUT"
    assert run.error["message"].startswith("Run timed out during node 'b': it has taken 61s")
    assert run.path == ["a", "b"]
    assert run.nodes["b"]["outcome"] == "cancelled"
    assert run.nodes["b"]["error"]["code"] == "TIMEOUT"
    assert [(e["node"], e["outcome"]) for e in run.trace] == [("a", "success"), ("b", "cancelled")]
    assert (await engine.store.load(run.id)).error == run.error


async def test_timeout_cancels_the_branches_of_a_parallel_block(
    tmp_path: Path, registry: Registry, engine: Engine, clock: VirtualClock
) -> None:
    flow = load(
        tmp_path,
        """
        flow: hanging-branches
        settings: {timeout: 30s}
        start: both
        nodes:
          both:
            parallel:
              quick: {use: t.echo, with: {x: 1}}
              slow: {use: t.hang, with: {seconds: 40}}  # past the deadline
            next: done
          done: {use: t.echo}
        """,
        registry,
    )
    run = await asyncio.wait_for(engine.start(flow), 5)
    assert run.status == "failed"
    assert run.error is not None
    assert (run.error["node"], run.error["code"]) == ("both", "TIMEOUT")
    assert run.nodes["quick"]["outcome"] == "success"
    assert run.nodes["slow"]["outcome"] == "cancelled"
    assert run.nodes["slow"]["error"]["message"] == (
        "Node 'slow' was cancelled because the run timed out"
    )
    assert run.nodes["both"]["outcome"] == "cancelled"


async def test_system_clock_deadline_in_the_past_cancels_at_once() -> None:
    from flowengine import SystemClock

    clock = SystemClock()
    with pytest.raises(TimeoutError):
        async with clock.deadline(clock.now() - 1):
            await asyncio.Event().wait()
    async with clock.deadline(clock.now() + 3600):  # a later deadline leaves the body alone
        await asyncio.sleep(0)


async def test_one_virtual_sleep_past_a_deadline_is_cancelled(clock: VirtualClock) -> None:
    finished = False
    with pytest.raises(TimeoutError):
        async with clock.deadline(clock.now() + 10):
            await clock.sleep(100)  # one long sleep, not steps: it must not finish in time
            finished = True
    assert not finished
    async with clock.deadline(clock.now() + 10):
        await clock.sleep(5)  # within the deadline: untouched

"""`error` in templates: the failure that routed to the node, so one error node serves a flow."""

from __future__ import annotations

from pathlib import Path

import pytest
from runtime_support import load

from flowengine import Engine, Registry, SQLiteStore

FLOW = """
flow: errors
inputs:
  type: object
  properties: {which: {type: string}}
start: pick
nodes:
  pick:
    use: t.check
    with: {value: "{{ inputs.which == 'first' }}"}
    on: {"true": first, "false": second}
  first:
    use: t.fail
    with: {code: FIRST_BROKE, message: the first step broke}
    on: {success: done, error: handler}
  second:
    use: t.boom
    with: {detail: second}
    on: {success: done, error: handler}
  handler:
    use: t.echo
    with:
      node: "{{ error.node }}"
      code: "{{ error.code }}"
      message: "{{ error.message }}"
    next: confirm
  confirm:
    use: t.ask
    next: report
  report:
    use: t.echo
    with: {failed: "{{ error.node }}", seen: "{{ nodes.handler.output.code }}"}
  done:
    use: t.echo
    with: {ok: true}
"""


@pytest.mark.parametrize(
    ("which", "node", "code", "message"),
    [
        ("first", "first", "FIRST_BROKE", "the first step broke"),
        ("second", "second", "UNEXPECTED_ERROR", "ValueError: kaput second"),
    ],
)
async def test_one_error_node_reads_the_failure_that_routed_to_it(
    tmp_path: Path,
    registry: Registry,
    engine: Engine,
    which: str,
    node: str,
    code: str,
    message: str,
) -> None:
    flow = load(tmp_path, FLOW, registry)
    run = await engine.start(flow, {"which": which})
    assert run.nodes["handler"]["output"] == {"node": node, "code": code, "message": message}


async def test_error_survives_a_pause_and_a_resume_in_another_engine(
    tmp_path: Path, registry: Registry
) -> None:
    flow = load(tmp_path, FLOW, registry)
    store = SQLiteStore(tmp_path / "runs.db")
    async with Engine(registry, store=store, environ={}) as first:
        waiting = await first.start(flow, {"which": "first"})
    assert waiting.status == "waiting"
    async with Engine(registry, store=SQLiteStore(tmp_path / "runs.db"), environ={}) as second:
        run = await second.resume(waiting.id, {"ok": 1}, flow=flow)
    assert run.status == "completed", run.error
    assert run.result == {"failed": "first", "seen": "FIRST_BROKE"}


async def test_error_is_null_where_no_failure_routed(
    tmp_path: Path, registry: Registry, engine: Engine
) -> None:
    flow = load(
        tmp_path,
        "flow: f\nstart: a\nnodes:\n  a:\n    use: t.echo\n"
        "    with: {none: '{{ error }}', node: '{{ default(error.node, \"-\") }}'}\n",
        registry,
    )
    run = await engine.start(flow)
    assert run.result == {"none": None, "node": "-"}

"""Graceful shutdown: a continue in flight when the server is told to stop still finishes."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from flowengine import CallContext, Connector, get_plugin_manager, hookimpl, load_registry

slow = Connector(name="slowtest", title="Slow")


@slow.capability(input_schema={"type": "object"}, output_schema={"type": "object"})
async def nap(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Takes its time, as a call to a remote service does."""
    await asyncio.sleep(0.8)
    return {"slept": True}


class SlowPlugin:
    @hookimpl
    def register_connectors(self, register: Any) -> None:
        register(slow)


FLOW = """
flow: slow
start: ask
nodes:
  ask:
    use: ui.form
    with: {fields: [name]}
    next: nap
  nap:
    use: slowtest.nap
    next: done
  done:
    use: ui.success
    with: {result: "{{ nodes.ask.output.name }}"}
"""


def test_a_continue_in_flight_finishes_when_the_server_stops(serve: Any, tmp_path: Path) -> None:
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(SlowPlugin(), name="slowtest")
    flow = tmp_path / "slow.yaml"
    flow.write_text(FLOW)
    served = serve(str(flow), registry=load_registry(pm), store=f"sqlite:///{tmp_path / 'r.db'}")
    run = served.client.post("/api/runs", json={"flow": "slow"}).json()
    answers: list[Any] = []

    def answer() -> None:
        body = {"token": run["pending"]["token"], "response": {"name": "Ada"}}
        answers.append(served.client.post(run["links"]["continue"], json=body))

    in_flight = threading.Thread(target=answer)
    in_flight.start()
    time.sleep(0.3)  # the request is inside the nap
    served.uvicorn.should_exit = True
    in_flight.join(timeout=10)
    served.thread.join(timeout=10)
    assert not served.thread.is_alive()  # the server stopped...
    [done] = answers  # ...after answering the request it had
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["result"] == {"result": "Ada"}
    assert asyncio.run(served.server.engine.store.load(run["id"])).status == "completed"

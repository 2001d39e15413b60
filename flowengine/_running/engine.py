"""The engine: starts runs of flows and resumes them, on asyncio.

    async with Engine(registry, store=open_store("sqlite:///runs.db")) as engine:
        run = await engine.start(flow, {"policy_id": "p1"})
        while run.status == "waiting":
            run = await engine.resume(run.id, response)

An Engine keeps what outlives one run: compiled node plans (per flow digest), open
connector connections (one per distinct settings), the run store and the trace sinks.
The Engine owns the plans and the pool and hands them to each Execution (the walk, in
`execution.py`), which never calls back into the Engine; the run state is `Run`.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flowengine._clock import Clock, SystemClock
from flowengine._errors import (
    FlowChangedError,
    RunConflictError,
    RunError,
    SchemaValidationError,
)
from flowengine._plugins.registry import Registry, load_registry
from flowengine._plugins.schema import CompiledSchema
from flowengine._reading.loader import load_flow
from flowengine._reading.spec import FlowSpec
from flowengine._redaction import compile_secrets
from flowengine._running.execution import Execution
from flowengine._running.json_values import json_problem
from flowengine._running.node_errors import error_dict
from flowengine._running.plan import NodePlan
from flowengine._running.pool import ConnectionPool
from flowengine._running.typed_secrets import form_secrets
from flowengine._storing.run import Run, RunStatus, new_run_id
from flowengine._storing.stores import MemoryStore, RunStore

__all__ = ["Engine"]


class Engine:
    """Runs flows: `start()` a run, `resume()` a waiting one, `aclose()` the connections."""

    def __init__(
        self,
        registry: Registry | None = None,
        *,
        store: RunStore | None = None,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
        trace_sinks: Sequence[Callable[[dict[str, Any]], None]] = (),
        redact_personal_data: bool = True,
    ) -> None:
        self.registry = registry if registry is not None else load_registry()
        self.store: RunStore = store if store is not None else MemoryStore()
        self.clock: Clock = clock or SystemClock()
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.trace_sinks = tuple(trace_sinks)
        self.redact_personal_data = redact_personal_data
        self._pool = ConnectionPool(self.registry, self.environ)
        """The open connections, shared by every run of this engine."""
        self._plans: dict[str, dict[str, NodePlan]] = {}
        """Node plans per flow digest, compiled on first use (by the executions)."""
        self._inputs: dict[str, CompiledSchema | None] = {}
        self.interrupted: Run | None = None
        """The last run a cancellation (Ctrl-C) stopped, saved as failed with INTERRUPTED."""

    def __repr__(self) -> str:
        return f"<Engine store={self.store!r} connections={len(self._pool)}>"

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---- runs -------------------------------------------------------------------------

    async def start(self, flow: FlowSpec, inputs: Mapping[str, Any] | None = None) -> Run:
        """Start a run of `flow` and run it until it completes, fails or waits."""
        values = self._check_inputs(flow, dict(inputs or {}))
        now = self.clock.now()
        run = Run(
            id=new_run_id(),
            flow_id=flow.id,
            flow_file=_absolute(flow.file),
            flow_digest=flow.digest,
            inputs=values,
            vars=copy.deepcopy(dict(flow.variables)) if flow.variables else {},
            created_at=now,
            updated_at=now,
            started_at=now,
            deadline=now + flow.settings.timeout,
        )
        await self._drive(self._execution(run, flow), flow.start)
        return await self._save(run)

    async def resume(
        self,
        run_id_or_run: str | Run,
        response: Any,
        *,
        flow: FlowSpec | None = None,
        allow_changed_flow: bool = False,
    ) -> Run:
        """Give a waiting run its response and run on until it completes, fails or waits."""
        if isinstance(run_id_or_run, Run):
            run = run_id_or_run
        else:
            run = await self.store.load(run_id_or_run)
        if run.status != RunStatus.WAITING or not run.waiting:
            raise RunError(
                f"Run {run.id} is {run.status}, not waiting; only a waiting run can be resumed",
                run_id=run.id,
            )
        flow = flow or self._load_flow(run)
        self._check_digest(run, flow, allow_changed_flow)
        node_id, visit = run.waiting["node"], int(run.waiting.get("visit", 1))
        # A password typed into the form is a secret from now on: redacted, never stored.
        run.secrets.update(form_secrets(run.waiting.get("interaction"), response))
        run.status, run.waiting = RunStatus.RUNNING, None
        execution = self._execution(run, flow)
        if node_id not in flow.all_nodes:
            execution.fail(node_id, "NODE_GONE", f"Flow {flow.id!r} no longer has node {node_id!r}")
        else:
            await self._drive(execution, node_id, response, visit)
        return await self._save(run)

    async def _drive(
        self, execution: Execution, node_id: str, response: Any = None, visit: int | None = None
    ) -> None:
        """Run the execution; when it is cancelled (Ctrl-C), save the run it failed, re-raise."""
        self.interrupted = None
        try:
            await execution.drive(node_id, response, visit)
        except (asyncio.CancelledError, KeyboardInterrupt):
            self.interrupted = await self._save(execution.run)
            raise

    def _execution(self, run: Run, flow: FlowSpec) -> Execution:
        """An Execution of `run`, given this engine's plans for the flow and its pool."""
        return Execution(
            run,
            flow,
            plans=self._plans.setdefault(flow.digest, {}),
            pool=self._pool,
            registry=self.registry,
            clock=self.clock,
            trace_sinks=self.trace_sinks,
            redact_personal_data=self.redact_personal_data,
        )

    async def _save(self, run: Run) -> Run:
        run.updated_at = self.clock.now()
        try:
            await self.store.save(run)
        except RunConflictError:
            raise  # another request or server went on with the run: this pass lost
        except Exception as e:  # never leave the stored run behind, waiting at an older node
            await self._save_failed(run, e)
        return run

    async def _save_failed(self, run: Run, error: Exception) -> None:
        """The store refused the run: drop what is not JSON, fail the run, save it again."""
        secrets = compile_secrets(frozenset(run.secrets))
        node = _drop_non_json(run) or (run.waiting or {}).get("node")
        node = node or (run.path[-1] if run.path else None)
        why = secrets.redact(f"{type(error).__name__}: {error}")
        run.status, run.waiting, run.result = RunStatus.FAILED, None, None
        run.error = {
            "node": node,
            "code": "STORE_WRITE_FAILED",
            "message": f"The run store {self.store!r} could not save run {run.id} ({why}); "
            "what it could not write was left out and the run failed: fix the plugin or "
            "the store and start the run again",
        }
        try:
            await self.store.save(run)
        except Exception as again:
            raise RunError(
                f"Run {run.id} could not be saved in {self.store!r}: "
                f"{secrets.redact(f'{type(again).__name__}: {again}')}; check --store",
                run_id=run.id,
            ) from None

    def _load_flow(self, run: Run) -> FlowSpec:
        if not os.path.isfile(run.flow_file):
            raise RunError(
                f"Run {run.id}: cannot read its flow file {run.flow_file} (no such file); "
                "pass the flow to resume() or run from the directory the run started in",
                run_id=run.id,
            )
        return load_flow(run.flow_file, self.registry)

    @staticmethod
    def _check_digest(run: Run, flow: FlowSpec, allow_changed_flow: bool) -> None:
        if flow.digest == run.flow_digest and flow.id == run.flow_id:
            return
        if allow_changed_flow:
            return
        raise FlowChangedError(
            f"Run {run.id} started with flow {run.flow_id!r} {run.flow_digest} but "
            f"{flow.file} is now {flow.id!r} {flow.digest}: the flow changed while the run "
            "waited; resume with allow_changed_flow=True (--allow-changed-flow) to go on anyway",
            run_id=run.id,
        )

    def _check_inputs(self, flow: FlowSpec, inputs: dict[str, Any]) -> dict[str, Any]:
        schema = self._inputs_schema(flow)
        if schema is None:
            return inputs
        for name, prop in (flow.inputs_schema.get("properties") or {}).items():
            if name not in inputs and isinstance(prop, dict) and "default" in prop:
                inputs[name] = copy.deepcopy(prop["default"])
        try:
            schema.validate(inputs, where=f"Flow {flow.id!r} inputs")
        except SchemaValidationError as e:
            raise RunError(f"{e} ({flow.file})") from e
        return inputs

    def _inputs_schema(self, flow: FlowSpec) -> CompiledSchema | None:
        if flow.digest not in self._inputs:
            schema = dict(flow.inputs_schema)
            self._inputs[flow.digest] = (
                CompiledSchema(schema, name=f"{flow.id} inputs") if schema else None
            )
        return self._inputs[flow.digest]

    async def aclose(self) -> None:
        """Close every connection the engine opened."""
        await self._pool.aclose()


def _drop_non_json(run: Run) -> str | None:
    """Replace every part of `run` the store cannot write; the node that held one, if any."""
    culprit: str | None = None
    for node_id, result in list(run.nodes.items()):
        problem = json_problem(result)
        if problem is not None:
            culprit = culprit or node_id
            path, found = problem
            message = f"Node {node_id!r}: its result is not JSON at {path} ({found})"
            run.nodes[node_id] = {
                "output": None,
                "error": error_dict("OUTPUT_NOT_JSON", message),
                "outcome": "error",
                "visits": result.get("visits", 1) if isinstance(result, dict) else 1,
            }
    if json_problem(run.vars) is not None:
        run.vars = {k: v for k, v in run.vars.items() if json_problem(v) is None}
    if json_problem(run.inputs) is not None:
        run.inputs = {k: v for k, v in run.inputs.items() if json_problem(v) is None}
    run.trace = [
        e if json_problem(e) is None else {**e, "input": None, "output": None, "error": None}
        for e in run.trace
    ]
    return culprit


def _absolute(flow_file: str) -> str:
    """The flow file's resolved absolute path, so a run resumes from any folder."""
    return _absolute_from(os.getcwd(), flow_file)


@functools.lru_cache(maxsize=256)
def _absolute_from(cwd: str, flow_file: str) -> str:
    # Names that are no file (a flow loaded from text) stay as they are.
    if os.path.isabs(flow_file) or not os.path.exists(os.path.join(cwd, flow_file)):
        return flow_file
    return os.path.realpath(os.path.join(cwd, flow_file))

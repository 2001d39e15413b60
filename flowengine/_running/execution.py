"""One pass of the engine over a run: from a node until the run completes, fails or waits.

An Execution lives for one `Engine.start()` or `Engine.resume()` call. The Engine hands it
what outlives the run (the flow's plans cache, the connection pool, the registry, the clock,
the trace sinks); it never holds the Engine. It holds what must never be stored (rendered
connection settings, secrets) and walks the graph: render the
node's input, validate it, call the capability, validate its output, record the result,
emit the trace event, follow the route. The hot path does no copying, no thread hops and
no store writes; `NodePlan`s (compiled once per flow digest and node) carry everything
that does not change between visits.
"""

from __future__ import annotations

import asyncio
import logging
import random
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flowengine._clock import Clock
from flowengine._errors import ConnectorError, NodeExecutionError, TemplateError
from flowengine._plugins.connector import CallContext, Interaction, Outcome
from flowengine._plugins.registry import Registry
from flowengine._reading.spec import FlowSpec, NodeSpec, RetrySpec
from flowengine._redaction import compile_secrets, redact_parts
from flowengine._running.json_values import MAX_DEPTH, json_problem, plain_dict
from flowengine._running.node_errors import error_dict, exception_error
from flowengine._running.plan import NodePlan, build_plan
from flowengine._running.pool import ConnectionPool
from flowengine._running.typed_secrets import secret_values
from flowengine._storing.run import NodeResult, Run, RunStatus

__all__ = ["Execution"]

log = logging.getLogger("flowengine")
_random = random.Random()
"""Retry jitter (`jitter: full`); tests seed it or check bounds."""

SET_VARS = "set_vars"
"""The reserved output key whose object the engine merges into run.vars."""


class _Paused(Exception):
    """Internal: the capability returned an Interaction."""

    def __init__(self, interaction: Interaction) -> None:
        self.interaction = interaction


class Execution:
    """The engine walking one run until it completes, fails or waits."""

    def __init__(
        self,
        run: Run,
        flow: FlowSpec,
        *,
        plans: dict[str, NodePlan],
        pool: ConnectionPool,
        registry: Registry,
        clock: Clock,
        trace_sinks: Sequence[Callable[[dict[str, Any]], None]] = (),
        redact_personal_data: bool = True,
    ) -> None:
        self.run = run
        self.flow = flow
        self.plans = plans
        """The flow's node plans by node id, filled on first visit (the Engine keeps them)."""
        self.pool = pool
        self.registry = registry
        self.clock = clock
        self.trace_sinks = tuple(trace_sinks)
        self.redact_personal_data = redact_personal_data
        self.scope = {
            "nodes": run.nodes,
            "inputs": run.inputs,
            "vars": run.vars,
            "run": {"id": run.id},
            "error": routed_error(run),
        }
        self.connections: dict[str, tuple[Mapping[str, Any], Any]] = {}
        self.secrets = compile_secrets(frozenset(run.secrets))
        self.max_visits = flow.settings.max_node_visits
        self.running: tuple[str, int, float] | None = None
        """The top-level node (or parallel block) running now: (id, visit, start)."""

    # ---- the walk ------------------------------------------------------------------------

    async def drive(self, node_id: str, response: Any = None, visit: int | None = None) -> None:
        """Run from `node_id` (resuming it with `response` at `visit`, if given).

        The run's timeout is checked before each node, and a deadline on the clock cancels
        a node still running when the time is up (an `async def` capability, at its next
        await: a plain `def` one cannot be interrupted)."""
        try:
            async with self.clock.deadline(self.run.started_at + self.flow.settings.timeout):
                await self._walk(node_id, response, visit)
        except TimeoutError:
            self._timed_out()
        except (asyncio.CancelledError, KeyboardInterrupt):
            self._interrupted()
            raise  # the caller cancelled (Ctrl-C): it must see that, after the run is kept

    def _interrupted(self) -> None:
        """Ctrl-C or a cancelled task stopped the node that was running: record it
        `interrupted` and fail the run with INTERRUPTED (the node may have done part of its
        work, so running or asking it again is left to a person)."""
        last = self.run.path[-1] if self.run.path else self.flow.start
        node_id, visit, start = self.running or (last, 0, self.clock.now())
        message = (
            f"Run interrupted during node {node_id!r} (Ctrl-C, or the task running it was "
            "cancelled); the node may have done part of its work: start a new run"
        )
        error = error_dict("INTERRUPTED", message)
        self._record((), node_id, None, visit, start, "interrupted", None, None, error)
        self.fail(node_id, "INTERRUPTED", message)

    async def _walk(self, node_id: str, response: Any, visit: int | None) -> None:
        try:
            while True:
                node = self.flow.all_nodes[node_id]
                self._check_timeout(node_id)
                if node.is_parallel:
                    outcome: str | None = await self._parallel(node)
                else:
                    outcome = await self.visit(self._plan(node), None, response, visit)
                    response = visit = None
                if outcome is None:
                    break  # waiting
                target = node.routes.get(outcome)
                if target is None:
                    self._end(node_id, outcome)
                    break
                if outcome == "error":
                    self.scope["error"] = routed_error(self.run, node_id)
                node_id = target
        except NodeExecutionError as e:
            self.fail(e.node_id or node_id, e.code, str(e))
        except Exception as e:  # a bug must not lose the run: keep its state, say what broke
            self._debug(node_id, e)
            self.fail(node_id, "ENGINE_ERROR", f"{type(e).__name__}: {e}")

    def _debug(self, node_id: str, e: BaseException) -> None:
        """The full traceback on the `flowengine` logger at DEBUG (`flowengine --debug`),
        secrets redacted; formatted only when someone listens."""
        if log.isEnabledFor(logging.DEBUG):
            text = "".join(traceback.format_exception(e))
            text = self.secrets.redact(text)
            log.debug("node %r of run %s raised:\n%s", node_id, self.run.id, text)

    def _plan(self, node: NodeSpec) -> NodePlan:
        plan = self.plans.get(node.id)
        if plan is None:
            plan = self.plans[node.id] = build_plan(node, self.flow, self.registry)
        return plan

    def _check_timeout(self, node_id: str) -> None:
        elapsed = self.clock.now() - self.run.started_at
        if elapsed > self.flow.settings.timeout:
            raise NodeExecutionError(
                f"Run timed out before node {node_id!r}: it has taken {elapsed:.0f}s, more than "
                f"the flow's timeout of {self.flow.settings.timeout:.0f}s (settings.timeout)",
                node_id=node_id,
                code="TIMEOUT",
            )

    def _timed_out(self) -> None:
        """The deadline cancelled the node that was running: record it as cancelled, fail."""
        # Only an await inside a node lets the deadline fire, so a node is always running;
        # the fallback keeps the run (and says where it was) should that ever change.
        last = self.run.path[-1] if self.run.path else self.flow.start
        node_id, visit, start = self.running or (last, 0, self.clock.now())
        elapsed = self.clock.now() - self.run.started_at
        message = (
            f"Run timed out during node {node_id!r}: it has taken {elapsed:.0f}s, more than the "
            f"flow's timeout of {self.flow.settings.timeout:.0f}s (settings.timeout); the node "
            "was cancelled"
        )
        error = error_dict("TIMEOUT", message)
        self._record((), node_id, None, visit, start, "cancelled", None, None, error)
        self.fail(node_id, "TIMEOUT", message)

    def _past_deadline(self) -> bool:
        return self.clock.now() - self.run.started_at >= self.flow.settings.timeout

    def _next_visit(self, node_id: str) -> int:
        prev = self.run.nodes.get(node_id)
        visit = prev["visits"] + 1 if prev else 1
        if visit > self.max_visits:
            raise NodeExecutionError(
                f"Node {node_id!r} has run {self.max_visits} times (max_node_visits) and "
                f"would run again: the flow loops through {node_id!r}; add an exit to the "
                "loop or raise settings.max_node_visits",
                node_id=node_id,
                code="MAX_NODE_VISITS",
            )
        return visit

    def _end(self, node_id: str, outcome: str) -> None:
        result = self.run.nodes[node_id]
        if outcome == "error":
            error = result["error"] or error_dict("ERROR", f"Node {node_id!r} failed")
            self.run.error = {"node": node_id, **error}
            self.run.status = RunStatus.FAILED
        else:
            self.run.result = result["output"]
            self.run.status = RunStatus.COMPLETED

    def fail(self, node_id: str, code: str, message: str) -> None:
        """End the run as failed, keeping everything it has done."""
        error = {"node": node_id, "code": code, "message": message}
        self.run.error = self.secrets.redact(error)
        self.run.status = RunStatus.FAILED
        self.run.waiting = None

    # ---- one node --------------------------------------------------------------------------

    async def visit(
        self, plan: NodePlan, parent: str | None, response: Any = None, visit: int | None = None
    ) -> str | None:
        """Run one node once; its outcome, or None when it waits for a response."""
        node_id = plan.node.id
        if visit is None:
            visit = self._next_visit(node_id)
        run = self.run
        start = self.clock.now()
        if parent is None:
            self.running = (node_id, visit, start)
        inputs: Any = None
        attempt = 1
        while True:  # once, unless the node's `retry:` retries its error
            output: Any = None
            error: dict[str, Any] | None = None
            try:
                if inputs is None:
                    inputs = self._render(plan)
                settings, connection = await self._connection(plan)
                ctx = CallContext(
                    run.id, node_id, visit, settings, connection, self.clock, response, run.vars
                )
                result = plan.func(inputs, ctx)
                if plan.is_async:
                    result = await (
                        result if plan.node.timeout is None else self._timed(plan, result)
                    )
                outcome, output = self._classify(plan, result, inputs)
            except _Paused as p:
                problem = json_problem(p.interaction.data)
                if problem is not None:
                    error = _not_json(plan, "interaction data", problem).to_dict()
                    outcome, output = "error", None
                elif parent is not None:
                    error = error_dict(
                        "INTERACTION_IN_PARALLEL",
                        f"Node {node_id!r} (a branch of parallel block {parent!r}) asked for a "
                        f"{p.interaction.kind!r} interaction; interactions are not supported "
                        "inside parallel branches: move this node out of the block",
                    )
                    outcome, output = "error", None
                else:
                    self._pause(plan, visit, start, inputs, p.interaction)
                    return None
            except Exception as e:  # any failure of a capability is its node's error outcome
                error = exception_error(e, plan.plugin_dir)
                if "where" in error:
                    self._debug(node_id, e)
                problem = json_problem(error)
                if problem is not None:  # e.g. a ConnectorError's details holding an object
                    error = _not_json(plan, "error", problem).to_dict()
                outcome, output = "error", None
                error = self.secrets.redact(error)
            if outcome == "error" and error is None:
                error, output = output or error_dict("ERROR", f"Node {node_id!r} failed"), None
            retry = plan.node.retry
            if retry is None or outcome != "error":
                break
            delay = self._retry_delay(retry, attempt, error)
            if delay is None:
                break
            extra: dict[str, Any] | None = {"attempt": attempt, "retry_in": delay}
            self._emit(
                plan.personal, node_id, parent, visit, start, "retrying", inputs, None, error, extra
            )
            await self.clock.sleep(delay)
            attempt += 1
        extra = None if attempt == 1 else {"attempt": attempt}
        personal = plan.personal
        self._record(
            personal, node_id, parent, visit, start, outcome, inputs, output, error, extra=extra
        )
        return outcome

    async def _timed(self, plan: NodePlan, call: Any) -> Any:
        """Await the capability's call, cancelling it at the node's `timeout:` (TIMEOUT)."""
        seconds = plan.node.timeout or 0.0
        try:
            async with self.clock.deadline(self.clock.now() + seconds) as timeout:
                return await call
        except TimeoutError:
            expired = getattr(timeout, "expired", None)
            if expired is None or not expired():
                raise  # the capability's own TimeoutError
            raise ConnectorError(
                f"Node {plan.node.id!r} was still running after its timeout of {seconds:g}s "
                f"(timeout: on the node) and was cancelled; raise the timeout or find why "
                f"{plan.qualname} is slow",
                code="TIMEOUT",
            ) from None

    def _retry_delay(
        self, retry: RetrySpec, attempt: int, error: dict[str, Any] | None
    ) -> float | None:
        """Seconds to wait before retry number `attempt`, or None when the error is not retried
        (not in `on:`, no attempts left, or a Retry-After longer than `max_delay`)."""
        code = error.get("code") if error else None
        if attempt > retry.max_attempts or not retry.retries(code):
            return None
        delay = retry.delay(attempt)
        if retry.jitter == "full":
            delay = _random.uniform(0.0, delay)
        after = error.get("retry_after") if error else None
        if isinstance(after, int | float) and not isinstance(after, bool) and after > 0:
            if retry.max_delay is not None and after > retry.max_delay:
                return None  # the service asks for longer than the flow allows: fail now
            delay = max(delay, float(after))
        return delay

    def _record(
        self,
        personal: tuple[str, ...],
        node_id: str,
        parent: str | None,
        visit: int,
        start: float,
        outcome: str,
        inputs: Any,
        output: Any,
        error: dict[str, Any] | None,
        *,
        on_path: bool = True,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Keep a finished node visit in the run (`nodes.<id>`, the path) and trace it."""
        result: NodeResult = {
            "output": output,
            "error": error,
            "outcome": outcome,
            "visits": visit,
        }
        self.run.nodes[node_id] = result
        if on_path:
            self.run.path.append(node_id)
        self._emit(personal, node_id, parent, visit, start, outcome, inputs, output, error, extra)

    def _render(self, plan: NodePlan) -> Any:
        if plan.renderer is None:
            raise plan.compile_error or TemplateError("no inputs")
        inputs = plan.renderer.render(self.scope)
        if not plan.input_ok(inputs):
            plan.check("input", inputs)
        if plan.secret_inputs:
            self._add_secrets(secret_values(inputs, plan.secret_inputs))
        return inputs

    def _add_secrets(self, values: list[str]) -> None:
        """Make typed secret values run secrets: redacted from here on, never stored."""
        new = [v for v in values if v not in self.run.secrets]
        if new:
            self.run.secrets.update(new)
            self.secrets = compile_secrets(frozenset(self.run.secrets))

    def _classify(self, plan: NodePlan, result: Any, inputs: Any) -> tuple[str, Any]:
        if type(result) is dict:
            outcome, output = "success", result
        elif isinstance(result, Outcome):
            outcome, output = result.name, result.output
            if plan.outcomes is not None and outcome not in plan.outcomes:
                raise ConnectorError(
                    f"{plan.qualname} returned outcome {outcome!r}, which it does not declare "
                    f"(declared: {', '.join(sorted(plan.outcomes))})",
                    code="UNDECLARED_OUTCOME",
                )
            if outcome == "error":
                problem = json_problem(output)
                if problem is not None:
                    raise _not_json(plan, "error output", problem)
                return outcome, output
        elif isinstance(result, Interaction):
            raise _Paused(result)
        elif isinstance(result, Mapping):
            outcome, output = "success", dict(result)
        else:
            raise ConnectorError(
                f"{plan.qualname} returned {type(result).__name__}; a capability returns a "
                "dict, an Outcome or an Interaction",
                code="BAD_RESULT",
            )
        try:
            if not plan.output_ok(output):
                plan.check("output", output)
        except (ValueError, TypeError, RecursionError):  # the validator met a non-JSON value
            problem = json_problem(output)
            if problem is None:
                raise
            raise _not_json(plan, "output", problem) from None
        # The schema passed: is it JSON the store can write? (plain dicts: the quick pass)
        if type(output) is not dict or not plain_dict(output, 1, MAX_DEPTH):
            problem = json_problem(output)
            if problem is not None:
                raise _not_json(plan, "output", problem)
        if plan.secret_outputs:
            self._add_secrets(secret_values(output, plan.secret_outputs))
        new_vars = output.get(SET_VARS) if isinstance(output, dict) else None
        if new_vars is not None and isinstance(new_vars, dict):
            self.run.vars.update(new_vars)
        return outcome, output

    def _pause(
        self, plan: NodePlan, visit: int, start: float, inputs: Any, interaction: Interaction
    ) -> None:
        run, node_id = self.run, plan.node.id
        run.status = RunStatus.WAITING
        data = interaction.to_dict()
        run.waiting = {"node": node_id, "interaction": data, "since": start, "visit": visit}
        # The visit count says which visit waits (answers files pick by it); the last
        # finished visit's output stays readable.
        previous = run.nodes.get(node_id)
        run.nodes[node_id] = {
            "output": previous["output"] if previous else None,
            "error": previous["error"] if previous else None,
            "outcome": "waiting",
            "visits": visit,
        }
        personal = plan.personal_waiting  # the screen shows what the node got
        self._emit(personal, node_id, None, visit, start, "waiting", inputs, data, None)

    def _emit(
        self,
        personal: tuple[str, ...],
        node_id: str,
        parent: str | None,
        visit: int,
        start: float,
        outcome: str | None,
        inputs: Any,
        output: Any,
        error: Any,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if not self.redact_personal_data:
            personal = ()
        if personal or self.secrets:
            inputs, output, error = redact_parts(inputs, output, error, self.secrets, personal)
        end = self.clock.now()
        # make_event's shape, built here: the hot path saves a call of ten arguments.
        event = {
            "run": self.run.id,
            "node": node_id,
            "parent": parent,
            "visit": visit,
            "start": start,
            "end": end,
            "duration_ms": (end - start) * 1000.0,
            "outcome": outcome,
            "input": inputs,
            "output": output,
            "error": error,
        }
        if extra:
            event.update(extra)
        self.run.trace.append(event)
        for sink in self.trace_sinks:
            sink(event)

    # ---- connections -------------------------------------------------------------------

    async def _connection(self, plan: NodePlan) -> tuple[Mapping[str, Any], Any]:
        found = self.connections.get(plan.connection)
        if found is None:
            try:
                found = self.connections[plan.connection] = await self.pool.open(
                    self.flow, plan.connection, self.run.secrets
                )
            finally:  # secrets found before a settings error must redact that error too
                self.secrets = compile_secrets(frozenset(self.run.secrets))
        return found

    # ---- parallel blocks ---------------------------------------------------------------

    async def _parallel(self, block: NodeSpec) -> str:
        visit = self._next_visit(block.id)
        start = self.clock.now()
        self.running = (block.id, visit, start)
        plans = [self._plan(branch) for branch in block.branches.values()]
        visits = [self._next_visit(p.node.id) for p in plans]
        tasks = {
            asyncio.ensure_future(self.visit(p, block.id, None, v)): (p, v)
            for p, v in zip(plans, visits, strict=True)
        }
        failed: str | None = None
        timed_out: dict[str, Any] | None = None
        why = "the run timed out"  # unless the wait below ends
        try:
            if block.timeout is None:
                failed = await self._await_branches(tasks)
            else:
                failed, timed_out = await self._timed_branches(block, tasks)
            why = f"branch {failed!r} failed"
            if timed_out:
                why = f"the block's timeout of {block.timeout:g}s passed"
        except (asyncio.CancelledError, KeyboardInterrupt):
            if not self._past_deadline():
                why = "the run was interrupted"
            raise
        finally:
            for task, (plan, v) in tasks.items():
                if task.cancelled():
                    self._cancelled(plan, block.id, v, why)
        outputs = {p.node.id: _output(self.run.nodes.get(p.node.id)) for p in plans}
        outcome, error = "success", None
        if timed_out:
            outcome, error = "error", timed_out
        elif failed is not None:
            outcome = "error"
            error = {**(self.run.nodes[failed]["error"] or {}), "branch": failed}
        # The block's output holds its branches' outputs: each keeps its own redaction.
        personal = tuple(f"{p.node.id}.{path}" for p in plans for path in p.personal)
        self._record(personal, block.id, None, visit, start, outcome, None, outputs, error)
        return outcome

    async def _await_branches(self, tasks: Mapping[Any, tuple[NodePlan, int]]) -> str | None:
        """Wait for every branch; on the first error outcome cancel the rest. The failed one."""
        pending = set(tasks)
        failed: str | None = None
        try:
            while pending and failed is None:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task.result() == "error" and failed is None:
                        failed = tasks[task][0].node.id
        finally:
            for other in pending:
                other.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        return failed

    async def _timed_branches(
        self, block: NodeSpec, tasks: Mapping[Any, tuple[NodePlan, int]]
    ) -> tuple[str | None, dict[str, Any] | None]:
        """_await_branches under the block's `timeout:`: (the failed branch, None), or
        (None, the TIMEOUT error) when the time passed."""
        seconds = block.timeout or 0.0
        try:
            async with self.clock.deadline(self.clock.now() + seconds) as timeout:
                return await self._await_branches(tasks), None
        except TimeoutError:
            expired = getattr(timeout, "expired", None)
            if expired is None or not expired():
                raise
            message = (
                f"Parallel block {block.id!r} was still running after its timeout of "
                f"{seconds:g}s (timeout: on the block); its running branches were cancelled"
            )
            return None, error_dict("TIMEOUT", message)

    def _cancelled(self, plan: NodePlan, parent: str, visit: int, why: str) -> None:
        node_id = plan.node.id
        error = error_dict("CANCELLED", f"Node {node_id!r} was cancelled because {why}")
        now = self.clock.now()
        self._record(
            plan.personal,
            node_id,
            parent,
            visit,
            now,
            "cancelled",
            None,
            None,
            error,
            on_path=False,
        )


def _not_json(plan: NodePlan, what: str, problem: tuple[str, str]) -> ConnectorError:
    """OUTPUT_NOT_JSON: where the plugin's value stops being JSON and what was found there."""
    path, found = problem
    return ConnectorError(
        f"Node {plan.node.id!r}: the {what} of {plan.qualname} is not JSON: at {path} it holds "
        f"{found}; a capability returns only objects with string keys, arrays, strings, "
        "finite numbers, booleans and null (convert the value in the plugin, e.g. a datetime "
        "to an ISO 8601 string, bytes to base64)",
        code="OUTPUT_NOT_JSON",
        details=[{"json_path": path, "found": found}],
    )


def _output(result: NodeResult | None) -> Any:
    return result["output"] if result else None


def routed_error(run: Run, node_id: str | None = None) -> dict[str, Any] | None:
    """What templates read as `error`: the failure that routed to the node running now.

    `{"node": <id>, "code", "message", ...}` of `node_id`'s error, or (when an Execution
    resumes a run) of the last node on the run's path that ended in `error`; None when no
    error was routed. One error node can so serve a whole flow."""
    if node_id is None:
        node_id = next((n for n in reversed(run.path) if run.nodes[n]["outcome"] == "error"), None)
        if node_id is None:
            return None
    return {"node": node_id, **(run.nodes[node_id]["error"] or {})}

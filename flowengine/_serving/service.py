"""The runs both doors (pi.flow and the plain JSON API) drive: start, continue, cancel.

Every run lives in the run store; a continue is applied under a lock per run (in this
process) and a claim of the run's waiting step in the ledger (across processes), after the
interaction token was checked, and the run is saved before the caller answers.

An interaction token is `HMAC-SHA256(key, run id + "\\n" + step)`, where the step is the
waiting node, its visit and the time that visit began: each screen a run shows has its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from flowengine._errors import FlowChangedError, RunError
from flowengine._reading.spec import FlowSpec
from flowengine._running.engine import Engine
from flowengine._serving.config import Client, ServeConfig
from flowengine._serving.ledger import Ledger
from flowengine._storing.run import Run, RunStatus

__all__ = ["FlowService", "Refused", "step_of"]


class Refused(Exception):
    """A request the server refuses: HTTP status, a code, a message a person can act on."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


def step_of(run: Run) -> str:
    """The waiting step of a run: node, visit and when that visit began ("" if not waiting)."""
    waiting = run.waiting
    if run.status != RunStatus.WAITING or not waiting:
        return ""
    return f"{waiting['node']}:{int(waiting.get('visit', 1))}:{float(waiting['since']):.6f}"


class FlowService:
    """Starts, continues and cancels runs of the served flows."""

    def __init__(
        self,
        engine: Engine,
        flows: Mapping[str, FlowSpec],
        config: ServeConfig,
        ledger: Ledger,
        key: bytes,
    ) -> None:
        self.engine = engine
        self.flows = dict(flows)
        self.config = config
        self.ledger = ledger
        self._key = key
        self._locks: dict[str, asyncio.Lock] = {}
        self._starts: dict[str, deque[float]] = {}

    # ---- tokens -------------------------------------------------------------------------

    def _sign(self, run_id: str, step: str) -> str:
        return hmac.new(self._key, f"{run_id}\n{step}".encode(), hashlib.sha256).hexdigest()

    def token_step(self, run: Run) -> str:
        """The step the run's current token names (a kept screen, else the waiting step)."""
        step = step_of(run)
        screen = self.ledger.screen(run.id)
        if screen is not None and screen[1] == step:
            return screen[0]
        return step

    def token(self, run: Run) -> str | None:
        """The interaction token that continues this run now; None when it does not wait."""
        step = step_of(run)
        return self._sign(run.id, self.token_step(run)) if step else None

    def keep_token(self, run: Run, token_step: str) -> None:
        """Let the token of `token_step` stand for the run's new waiting step (same screen)."""
        if step_of(run):
            self.ledger.set_screen(run.id, token_step, step_of(run))

    # ---- runs ---------------------------------------------------------------------------

    def flow(self, flow_id: str) -> FlowSpec:
        try:
            return self.flows[flow_id]
        except KeyError:
            served = ", ".join(sorted(self.flows))
            raise Refused(
                404, "UNKNOWN_FLOW", f"no served flow {flow_id!r}; served: {served}"
            ) from None

    async def load(self, run_id: str) -> Run:
        try:
            return await self.engine.store.load(run_id)
        except RunError:
            raise Refused(404, "UNKNOWN_RUN", f"no run {run_id!r}") from None

    def _lock(self, run_id: str) -> asyncio.Lock:
        lock = self._locks.get(run_id)
        if lock is None:
            if len(self._locks) > 10_000:  # forget idle locks
                self._locks = {k: v for k, v in self._locks.items() if v.locked()}
            lock = self._locks[run_id] = asyncio.Lock()
        return lock

    def _rate(self, client: Client) -> None:
        now = time.monotonic()
        window = self._starts.setdefault(client.client_id, deque())
        while window and window[0] <= now - 60:
            window.popleft()
        if len(window) >= client.starts_per_minute:
            raise Refused(
                429,
                "TOO_MANY_STARTS",
                f"client {client.client_id!r} started {client.starts_per_minute} runs in the "
                "last minute (its starts_per_minute); try again shortly",
            )
        window.append(now)

    async def start(self, client: Client, flow_id: str, inputs: Mapping[str, Any]) -> Run:
        """Start a run of a served flow for `client` (checked: allowed, within its rate)."""
        flow = self.flow(flow_id)
        if not client.may_start(flow_id):
            raise Refused(
                403, "FLOW_NOT_ALLOWED", f"client {client.client_id!r} may not start {flow_id!r}"
            )
        self._rate(client)
        try:
            return await self.engine.start(flow, inputs)
        except RunError as e:
            raise Refused(400, "INVALID_INPUTS", str(e)) from None

    async def continue_run(
        self,
        run_id: str,
        token: str | None,
        response: Any = None,
        *,
        precheck: Callable[[Run], None] | None = None,
        respond: Callable[[Run, str], Any] | None = None,
    ) -> tuple[Run, Run]:
        """Apply `response` to the waiting run if `token` is its current token: (before, after).

        The run is loaded once, under the run's lock. `precheck(run)` runs before the status
        and token checks (a refusal that wins over theirs); `respond(run, token_step)`, when
        given, makes the response from the checked run before its step is claimed (it may
        raise to answer without touching the run).
        """
        async with self._lock(run_id):
            run, token_step = await self._checked(run_id, token, precheck)
            if respond is not None:
                response = respond(run, token_step)
            step = step_of(run)
            if not self.ledger.claim(run_id, step):
                raise Refused(
                    409, "ALREADY_CONTINUED", f"run {run_id}: this step was already continued"
                )
            before = Run.from_dict(run.to_dict())
            try:
                after = await self.engine.resume(run, response, flow=self.flow(run.flow_id))
            except BaseException as e:
                # Nothing was saved (the engine saves when the pass ends): the step stays open.
                self.ledger.release(run_id, step)
                if isinstance(e, FlowChangedError):
                    raise Refused(409, "FLOW_CHANGED", str(e)) from None
                raise
            return before, after

    async def check(self, run_id: str, token: str | None) -> Run:
        """The waiting run `token` may continue; Refused (nothing changed) otherwise."""
        return (await self._checked(run_id, token))[0]

    async def _checked(
        self, run_id: str, token: str | None, precheck: Callable[[Run], None] | None = None
    ) -> tuple[Run, str]:
        """(the run `token` may continue, the step its token names); Refused otherwise."""
        run = await self.load(run_id)
        if precheck is not None:
            precheck(run)
        if run.status != RunStatus.WAITING or not run.waiting:
            raise Refused(409, "RUN_ENDED", f"run {run_id} is {run.status}: it waits for nothing")
        token_step = self.token_step(run)
        expected = self._sign(run.id, token_step)
        # Bytes: compare_digest refuses str that is not ASCII (a header may be Latin-1).
        given = token.encode("utf-8", "replace") if isinstance(token, str) else b""
        if not given or not hmac.compare_digest(given, expected.encode()):
            raise Refused(
                401,
                "INVALID_TOKEN",
                f"run {run_id}: the interaction token is not the one of its current step "
                "(replayed, forged or another run's); read the run for the current one",
            )
        return run, token_step

    async def cancel(self, run_id: str, token: str | None) -> Run:
        """End a waiting run as failed with code CANCELLED."""
        async with self._lock(run_id):
            run = await self.check(run_id, token)
            if not self.ledger.claim(run_id, step_of(run)):
                raise Refused(409, "ALREADY_CONTINUED", f"run {run_id}: step already continued")
            node = run.waiting["node"] if run.waiting else ""
            run.status, run.waiting = RunStatus.FAILED, None
            run.error = {"node": node, "code": "CANCELLED", "message": "Cancelled by the client"}
            run.updated_at = self.engine.clock.now()
            await self.engine.store.save(run)
            return run

"""The engine: starts runs of flows and resumes them, on asyncio.

    async with Engine(registry, store=open_store("sqlite:///runs.db")) as engine:
        run = await engine.start(flow, {"policy_id": "p1"})
        while run.status == "waiting":
            run = await engine.resume(run.id, response)

An Engine keeps what outlives one run: compiled node plans (per flow digest), open
connector connections (one per distinct settings), the run store and the trace sinks.
The walk itself is `flowengine._execution.Execution`; the run state is `Run`.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowengine._clock import Clock, SystemClock
from flowengine._errors import (
    ConnectorError,
    FlowChangedError,
    RunError,
    SchemaValidationError,
    TemplateError,
)
from flowengine._execution import Execution, NodePlan
from flowengine._plugins.connector import Connector
from flowengine._plugins.registry import Registry
from flowengine._plugins.schema import CompiledSchema
from flowengine._reading.spec import FlowSpec
from flowengine._reading.templating import env_names, expand_settings
from flowengine._run import EXIT_CODES, Run, new_run_id
from flowengine.store import MemoryStore, RunStore

__all__ = ["EXIT_CODES", "Engine", "Run"]


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
        if registry is None:
            from flowengine._plugins.registry import load_registry

            registry = load_registry()
        self.registry = registry
        self.store: RunStore = store if store is not None else MemoryStore()
        self.clock: Clock = clock or SystemClock()
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.trace_sinks = tuple(trace_sinks)
        self.redact_personal_data = redact_personal_data
        self._plans: dict[str, dict[str, NodePlan]] = {}
        self._inputs: dict[str, CompiledSchema | None] = {}
        self._connections: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._env_names: dict[tuple[str, str], tuple[str, ...]] = {}
        self._prepared: dict[tuple[str, str, tuple[str | None, ...]], _Prepared] = {}
        self._open_lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"<Engine store={self.store!r} connections={len(self._connections)}>"

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
        )
        await Execution(self, run, flow).drive(flow.start)
        return self._save(run)

    async def resume(
        self,
        run_id_or_run: str | Run,
        response: Any,
        *,
        flow: FlowSpec | None = None,
        allow_changed_flow: bool = False,
    ) -> Run:
        """Give a waiting run its response and run on until it completes, fails or waits."""
        run = run_id_or_run if isinstance(run_id_or_run, Run) else self.store.load(run_id_or_run)
        if run.status != "waiting" or not run.waiting:
            raise RunError(
                f"Run {run.id} is {run.status}, not waiting; only a waiting run can be resumed",
                run_id=run.id,
            )
        flow = flow or self._load_flow(run)
        self._check_digest(run, flow, allow_changed_flow)
        node_id, visit = run.waiting["node"], int(run.waiting.get("visit", 1))
        run.status, run.waiting = "running", None
        execution = Execution(self, run, flow)
        if node_id not in flow.all_nodes:
            execution.fail(node_id, "NODE_GONE", f"Flow {flow.id!r} no longer has node {node_id!r}")
        else:
            await execution.drive(node_id, response, visit)
        return self._save(run)

    def _save(self, run: Run) -> Run:
        run.updated_at = self.clock.now()
        self.store.save(run)
        return run

    def _load_flow(self, run: Run) -> FlowSpec:
        from flowengine._reading.loader import load_flow

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

    def _plans_for(self, flow: FlowSpec) -> dict[str, NodePlan]:
        """The node plans of a flow, compiled on first use and kept per digest."""
        return self._plans.setdefault(flow.digest, {})

    # ---- connections ------------------------------------------------------------------

    async def _open_connection(
        self, flow: FlowSpec, name: str, secrets: set[str]
    ) -> tuple[Mapping[str, Any], Any]:
        """The rendered settings of connection `name` and its open state (cached per settings).

        The secret values among the settings are added to `secrets`, even when the
        settings turn out invalid (the error must not show them either).
        """
        prepared = self._prepared_settings(flow, name, secrets)
        if prepared.key not in self._connections:
            if self._open_lock is None:
                self._open_lock = asyncio.Lock()
            async with self._open_lock:
                if prepared.key not in self._connections:
                    connector = prepared.connector
                    opened = connector.open(prepared.settings) if connector.open else None
                    self._connections[prepared.key] = (connector, await _maybe_await(opened))
        return prepared.settings, self._connections[prepared.key][1]

    def _prepared_settings(self, flow: FlowSpec, name: str, secrets: set[str]) -> _Prepared:
        """Connection `name`'s settings expanded, checked and keyed, cached per env values."""
        spec = flow.connections.get(name)
        raw: Mapping[str, Any] = spec.settings if spec else {}
        names = self._env_names.get((flow.digest, name))
        if names is None:
            names = self._env_names[(flow.digest, name)] = env_names(raw)
        cache_key = (flow.digest, name, tuple(self.environ.get(n) for n in names))
        prepared = self._prepared.get(cache_key)
        if prepared is None:
            prepared = _prepare(
                self.registry, name, spec.connector if spec else name, raw, self.environ, secrets
            )
            if len(self._prepared) >= _PREPARED_CACHE:
                self._prepared.clear()  # environments that keep changing: start over
            self._prepared[cache_key] = prepared
        secrets |= prepared.secrets
        return prepared

    async def aclose(self) -> None:
        """Close every connection the engine opened."""
        connections, self._connections = self._connections, {}
        for connector, state in connections.values():
            if connector.close is not None:
                await _maybe_await(connector.close(state))


_PREPARED_CACHE = 256
MIN_ENV_SECRET_LENGTH = 8
"""A value read from the environment into a setting not known to be secret or public is a
secret when it is at least this long (shorter ones, like `EU` or `sandbox`, are not)."""


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A connection's expanded and validated settings, their secrets and the state key."""

    connector: Connector
    settings: dict[str, Any] = field(repr=False)  # secrets never in a repr
    secrets: frozenset[str] = field(repr=False)
    key: tuple[str, str] = field(repr=False)


def _prepare(
    registry: Registry,
    name: str,
    connector_name: str,
    raw: Mapping[str, Any],
    environ: Mapping[str, str],
    secrets: set[str],
) -> _Prepared:
    connector = registry.connectors.get(connector_name)
    if connector is None:
        raise ConnectorError(f"Connection {name!r}: no connector {connector_name!r} is registered")
    try:
        settings, reads = expand_settings(raw, environ)
    except TemplateError as e:
        raise ConnectorError(f"Connection {name!r} {e}", code="SETTINGS_INVALID") from None
    found = frozenset(setting_secrets(connector, settings, reads))
    secrets |= found  # before validating: the error must not show them
    try:
        registry.settings[connector.name].validate(settings, where=f"Connection {name!r} settings")
    except SchemaValidationError as e:
        raise ConnectorError(
            f"{e}{_env_source(raw, environ, e)}", code="SETTINGS_INVALID"
        ) from None
    key = (connector.name, json.dumps(settings, sort_keys=True, default=str))
    return _Prepared(connector, settings, found, key)


def _env_source(
    raw: Mapping[str, Any], environ: Mapping[str, str], error: SchemaValidationError
) -> str:
    """' (the value comes from $PINGONE_REGION)' when the failing setting read the environment."""
    # The flow file may be right and the environment wrong: name the variable to fix.
    parts = error.errors[0].path if len(error.errors) == 1 else ()
    names = [n for n in env_names(raw.get(parts[0])) if n in environ] if parts else []
    return f" (the value comes from ${', $'.join(names)})" if names else ""


def setting_secrets(
    connector: Connector, settings: Mapping[str, Any], env_reads: Mapping[str, set[str]]
) -> set[str]:
    """The secret values of a connection's expanded settings (the rule: docs/flows.md).

    The whole value of a secret setting (the connector's `secret_settings`, or marked
    `writeOnly: true` / `x-secret: true` in its settings schema) is a secret, wherever it
    came from. A value read from the environment into any other setting is a secret when
    it is at least MIN_ENV_SECRET_LENGTH long, unless the schema declares that setting
    public: `x-secret: false`, or an `enum` / `const` the value is one of.
    """
    props = connector.settings_schema.get("properties") or {}
    secret_keys = set(connector.secret_settings)
    secret_keys.update(k for k, p in props.items() if _marked_secret(p))
    found = {str(settings[key]) for key in secret_keys if settings.get(key)}
    for key, values in env_reads.items():
        if key not in secret_keys and not _declared_public(props.get(key), settings.get(key)):
            found.update(v for v in values if len(v) >= MIN_ENV_SECRET_LENGTH)
    return found


def _marked_secret(prop: Any) -> bool:
    return isinstance(prop, dict) and (
        prop.get("writeOnly") is True or prop.get("x-secret") is True
    )


def _declared_public(prop: Any, value: Any) -> bool:
    # An enum or const makes only its own values public: a secret put in such a setting by
    # mistake (a swapped variable) must not show in the validation error.
    if not isinstance(prop, dict):
        return False
    if prop.get("x-secret") is False:
        return True
    return ("enum" in prop and value in prop["enum"]) or (
        "const" in prop and value == prop["const"]
    )


def _absolute(flow_file: str) -> str:
    """The flow file's resolved absolute path, so a run resumes from any folder."""
    return _absolute_from(os.getcwd(), flow_file)


@functools.lru_cache(maxsize=256)
def _absolute_from(cwd: str, flow_file: str) -> str:
    # Names that are no file (a flow loaded from text) stay as they are.
    if os.path.isabs(flow_file) or not os.path.exists(os.path.join(cwd, flow_file)):
        return flow_file
    return os.path.realpath(os.path.join(cwd, flow_file))


async def _maybe_await(value: Any) -> Any:
    # Connector.open / close may be plain functions or coroutines.
    if inspect.isawaitable(value):
        return await value
    return value

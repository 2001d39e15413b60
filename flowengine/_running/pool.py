"""The connection pool: connector connections, one per distinct settings, with their secrets.

A connection's settings are expanded from `${VAR}` (the environment read when a run
opens it), their secret values found (`setting_secrets`, the rule in docs/flows.md) before
they are validated, and `Connector.open(settings)` is called once per connector and
distinct settings; `aclose()` closes them all. The Engine owns one pool and hands it to
every Execution.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowengine._errors import ConnectorError, SchemaValidationError, TemplateError
from flowengine._plugins.connector import Connector
from flowengine._plugins.registry import Registry
from flowengine._reading.spec import FlowSpec
from flowengine._reading.templating import env_names, expand_settings
from flowengine._running.typed_secrets import marked_secret

__all__ = ["MIN_ENV_SECRET_LENGTH", "ConnectionPool", "setting_secrets"]


class ConnectionPool:
    """Open connections, keyed by connector and settings; settings prepared once per env values."""

    def __init__(self, registry: Registry, environ: Mapping[str, str]) -> None:
        self.registry = registry
        self.environ = environ
        self._connections: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._env_names: dict[tuple[str, str], tuple[str, ...]] = {}
        self._prepared: dict[tuple[str, str, tuple[str | None, ...]], _Prepared] = {}
        self._open_lock: asyncio.Lock | None = None

    def __len__(self) -> int:
        return len(self._connections)

    def __repr__(self) -> str:
        return f"<ConnectionPool connections={len(self._connections)}>"

    async def open(
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
secret when it is at least this long (shorter ones, like a region code `EU`, are not)."""


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
    """' (the value comes from $REGION)' when the failing setting read the environment."""
    # The flow file may be right and the environment wrong: name the variable to fix.
    parts = error.errors[0].path if len(error.errors) == 1 else ()
    names = [n for n in env_names(raw.get(str(parts[0]))) if n in environ] if parts else []
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
    secret_keys.update(k for k, p in props.items() if isinstance(p, dict) and marked_secret(p))
    found = {str(settings[key]) for key in secret_keys if settings.get(key)}
    for key, values in env_reads.items():
        if key not in secret_keys and not _declared_public(props.get(key), settings.get(key)):
            found.update(v for v in values if len(v) >= MIN_ENV_SECRET_LENGTH)
    return found


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


async def _maybe_await(value: Any) -> Any:
    # Connector.open / close may be plain functions or coroutines.
    if inspect.isawaitable(value):
        return await value
    return value

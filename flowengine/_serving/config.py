"""What `flowengine serve` serves and to whom: the clients, the environment id, the limits.

A config file (YAML or JSON, read like answers files) looks like:

    environment: local                 # the path segment every protocol URL starts with
    key_file: .flowengine/serve.key    # the HMAC key of interaction tokens (made if missing)
    max_body_bytes: 65536
    code_ttl: 60                       # seconds an authorization code lives
    clients:
      - client_id: my-app
        redirect_uris: [http://localhost:3000/callback]
        origins: [http://localhost:3000]
        flows: [registration, form]    # or "*": every served flow
        default_flow: registration     # used when authorize has no acr_values
        starts_per_minute: 30

Without a file the development default applies (DEV_CLIENT_ID, below): one public client
that may start every served flow and redirect to 127.0.0.1 / localhost on any port.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flowengine._errors import FlowEngineError

__all__ = ["DEV_CLIENT_ID", "Client", "ConfigError", "ServeConfig", "dev_config", "parse_config"]

DEV_CLIENT_ID = "flowengine-dev"
DEV_ENVIRONMENT = "local"
_LOCAL_HOSTS = ("127.0.0.1", "localhost")
_ENV_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ConfigError(FlowEngineError):
    """The serve config is wrong: one line saying where and how to fix it."""


@dataclass(frozen=True)
class Client:
    """An application allowed to start flows: where it may redirect, from where it may call."""

    client_id: str
    redirect_uris: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    flows: tuple[str, ...] | None = None
    """The flow ids it may start; None: every served flow."""
    default_flow: str | None = None
    starts_per_minute: int = 60
    local_any_port: bool = False
    """Development: any http(s) URL on 127.0.0.1 / localhost is an allowed redirect and origin."""

    def may_start(self, flow_id: str) -> bool:
        return self.flows is None or flow_id in self.flows

    def allows_redirect(self, uri: str) -> bool:
        if uri in self.redirect_uris:
            return True
        return self.local_any_port and _is_local(uri)

    def allows_origin(self, origin: str) -> bool:
        if origin in self.origins:
            return True
        return self.local_any_port and _is_local(origin)


def _is_local(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a bad port raises)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.hostname in _LOCAL_HOSTS


@dataclass(frozen=True)
class ServeConfig:
    """The clients and limits of one server."""

    environment: str = DEV_ENVIRONMENT
    clients: tuple[Client, ...] = ()
    key_file: str | None = None
    max_body_bytes: int = 64 * 1024
    code_ttl: float = 60.0
    development: bool = False

    def client(self, client_id: str | None) -> Client | None:
        return next((c for c in self.clients if c.client_id == client_id), None)

    def default_client(self) -> Client | None:
        """The client a plain-API start uses when it names none: the only one, if one."""
        return self.clients[0] if len(self.clients) == 1 else None

    def allows_origin(self, origin: str) -> bool:
        return any(c.allows_origin(origin) for c in self.clients)


def dev_config() -> ServeConfig:
    """The development default: environment `local`, one public client `flowengine-dev`."""
    client = Client(client_id=DEV_CLIENT_ID, local_any_port=True, starts_per_minute=600)
    return ServeConfig(clients=(client,), development=True)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def _number(data: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}: {key} must be a number above 0, got {value!r}")
    return value


_CLIENT_KEYS = {"client_id", "redirect_uris", "origins", "flows", "default_flow"}
_CLIENT_KEYS |= {"starts_per_minute"}
_TOP_KEYS = {"environment", "clients", "key_file", "max_body_bytes", "code_ttl"}


def _no_unknown(data: Mapping[str, Any], known: set[str], where: str) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; known: {sorted(known)}")


def _client(raw: Any, where: str) -> Client:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a mapping with client_id, redirect_uris, ...")
    _no_unknown(raw, _CLIENT_KEYS, where)
    client_id = raw.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise ConfigError(f"{where}: client_id is required (a string)")
    flows = raw.get("flows", "*")
    default_flow = raw.get("default_flow")
    if default_flow is not None and not isinstance(default_flow, str):
        raise ConfigError(f"{where}: default_flow must be a flow id")
    return Client(
        client_id=client_id,
        redirect_uris=_strings(raw.get("redirect_uris", []), f"{where}.redirect_uris"),
        origins=_strings(raw.get("origins", []), f"{where}.origins"),
        flows=None if flows == "*" else _strings(flows, f"{where}.flows"),
        default_flow=default_flow,
        starts_per_minute=int(_number(raw, "starts_per_minute", 60, where)),
    )


def parse_config(data: Any, file: str) -> ServeConfig:
    """A ServeConfig from a config file's value; ConfigError naming the file otherwise."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{file}: a serve config is a mapping (environment, clients, ...)")
    _no_unknown(data, _TOP_KEYS, file)
    env = data.get("environment", DEV_ENVIRONMENT)
    if not isinstance(env, str) or not _ENV_ID.match(env):
        raise ConfigError(f"{file}: environment must match [A-Za-z0-9_-]{{1,64}}, got {env!r}")
    raw_clients = data.get("clients")
    if not isinstance(raw_clients, list) or not raw_clients:
        raise ConfigError(f"{file}: clients must be a non-empty list")
    clients = tuple(_client(c, f"{file}: clients[{i}]") for i, c in enumerate(raw_clients))
    ids = [c.client_id for c in clients]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{file}: a client_id is listed twice ({ids})")
    key_file = data.get("key_file")
    if key_file is not None and not isinstance(key_file, str):
        raise ConfigError(f"{file}: key_file must be a path")
    return ServeConfig(
        environment=env,
        clients=clients,
        key_file=key_file,
        max_body_bytes=int(_number(data, "max_body_bytes", 64 * 1024, file)),
        code_ttl=_number(data, "code_ttl", 60, file),
    )


def check_against_flows(config: ServeConfig, flow_ids: Sequence[str]) -> None:
    """Every flow a client names is served: a typo is refused at start."""
    served = set(flow_ids)
    for c in config.clients:
        for name in (*(c.flows or ()), *([c.default_flow] if c.default_flow else [])):
            if name not in served:
                raise ConfigError(
                    f"client {c.client_id!r} names flow {name!r}, which is not served "
                    f"(served: {', '.join(sorted(served)) or 'none'})"
                )

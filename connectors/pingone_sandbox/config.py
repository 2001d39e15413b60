"""The sandbox's configuration: environments and clients, token lifetime, faults, admin switch."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "SandboxConfig", "load_config"]

DEFAULT_CLIENT_ID = "sandbox-client"
DEFAULT_CLIENT_SECRET = "sandbox-secret"
_KNOWN_KEYS = {
    "environments",
    "token_lifetime",
    "faults",
    "admin",
    "processing_seconds",
    "rate_limit",
}


@dataclass
class SandboxConfig:
    """What a sandbox serves. `environments=None` provisions any environment id on first use."""

    environments: dict[str, dict[str, str]] | None = None  # envId -> {client_id: secret}
    token_lifetime: int = 3600
    faults: list[dict[str, Any]] = field(default_factory=list)
    admin: bool = False
    processing_seconds: float = 0.0  # how long a submitted verification stays IN_PROGRESS
    rate_limit: int | None = None  # API requests per second per environment; None: unlimited

    def __repr__(self) -> str:
        # Client secrets stay out of reprs (and so out of logs and tracebacks).
        envs = (
            None
            if self.environments is None
            else {env: sorted(clients) for env, clients in self.environments.items()}
        )
        return (
            f"SandboxConfig(environments={envs}, token_lifetime={self.token_lifetime}, "
            f"faults={len(self.faults)}, admin={self.admin}, "
            f"processing_seconds={self.processing_seconds}, rate_limit={self.rate_limit})"
        )

    def clients(self, env_id: str) -> dict[str, str] | None:
        """The clients of an environment, or None when the environment is not served."""
        if self.environments is None:
            return {DEFAULT_CLIENT_ID: DEFAULT_CLIENT_SECRET}
        return self.environments.get(env_id)


def load_config(source: str | Path | dict[str, Any] | SandboxConfig | None) -> SandboxConfig:
    """Read a config from a YAML/JSON file, a mapping, or pass a SandboxConfig through."""
    if source is None:
        return SandboxConfig()
    if isinstance(source, SandboxConfig):
        return source
    where = "config"
    if isinstance(source, str | Path):
        where = str(source)
        text = Path(source).read_text(encoding="utf-8")
        data = json.loads(text) if str(source).endswith(".json") else yaml.safe_load(text)
    else:
        data = source
    return _from_mapping(data or {}, where)


def _from_mapping(data: Any, where: str) -> SandboxConfig:
    if not isinstance(data, dict):
        raise ValueError(
            f"{where}: the sandbox config must be a mapping, got {type(data).__name__}"
        )
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known keys are {sorted(_KNOWN_KEYS)}")
    return SandboxConfig(
        environments=_environments(data.get("environments"), where),
        token_lifetime=_positive_int(
            data.get("token_lifetime", 3600), f"{where}: token_lifetime", "a number of seconds"
        ),
        faults=_faults(data.get("faults", []), where),
        admin=bool(data.get("admin", False)),
        processing_seconds=_seconds(data.get("processing_seconds", 0.0), where),
        rate_limit=_rate_limit(data.get("rate_limit"), where),
    )


def _rate_limit(value: Any, where: str) -> int | None:
    if value is None:
        return None
    return _positive_int(value, f"{where}: rate_limit", "a number of requests per second")


def _seconds(value: Any, where: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ValueError(
            f"{where}: processing_seconds must be a number of seconds (0 or more), got {value!r}"
        )
    return float(value)


def _environments(raw: Any, where: str) -> dict[str, dict[str, str]] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: environments must map an environment id to {{clients: ...}}")
    result: dict[str, dict[str, str]] = {}
    for env_id, env in raw.items():
        clients = (env or {}).get("clients") if isinstance(env, dict) else None
        if not isinstance(clients, dict) or not clients:
            raise ValueError(
                f"{where}: environments.{env_id}.clients must map client ids to secrets, "
                f"e.g. {{clients: {{{DEFAULT_CLIENT_ID}: {DEFAULT_CLIENT_SECRET}}}}}"
            )
        result[str(env_id)] = {str(k): str(v) for k, v in clients.items()}
    return result


def _faults(raw: Any, where: str) -> list[dict[str, Any]]:
    from .faults import FaultRule

    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise ValueError(f"{where}: faults must be a list of rule mappings")
    for index, rule in enumerate(raw):
        FaultRule.parse(rule, f"{where}: faults[{index}]")  # errors name the file and the rule
    return list(raw)


def _positive_int(value: Any, what: str, unit: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{what} must be a positive whole number ({unit}), got {value!r}")
    return value

"""A run: the state of one execution of a flow, JSON-serialisable.

The run points at its flow by file and digest; it never holds the flow itself, nor any
connection setting. `to_dict()` is what the run store keeps: node outputs, errors and the
result pass through secret redaction on the way out (the trace is redacted already).
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from typing import Any, TypedDict

from flowengine._redaction import compile_secrets

__all__ = ["EXIT_CODES", "RUN_FIELDS", "NodeResult", "Run", "RunStatus", "new_run_id"]


class RunStatus(enum.StrEnum):
    """Where a run is: a str, so stored JSON and `run.status == "waiting"` stay as they were."""

    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"


class NodeResult(TypedDict):
    """What a finished (or waiting) node left in `run.nodes`: templates read `nodes.<id>.output`."""

    output: Any
    error: dict[str, Any] | None
    outcome: str
    visits: int


EXIT_CODES: dict[str, int] = {
    RunStatus.COMPLETED: 0,
    RunStatus.FAILED: 1,
    RunStatus.WAITING: 3,
    RunStatus.RUNNING: 2,
}
"""Process exit code per run status (the CLI's contract)."""

RUN_FIELDS = (
    "id",
    "flow_id",
    "flow_file",
    "flow_digest",
    "status",
    "inputs",
    "vars",
    "nodes",
    "path",
    "waiting",
    "result",
    "error",
    "trace",
    "created_at",
    "updated_at",
    "started_at",
    "deadline",
    "in_flight",
    "owner",
    "lease_until",
    "version",
)

_REDACTED_FIELDS = ("inputs", "vars", "nodes", "waiting", "result", "error", "in_flight")


def new_run_id() -> str:
    """A fresh, unique run id: a random (version 4) UUID in hex."""
    return uuid.uuid4().hex


@dataclass(eq=False)
class Run:
    """One execution's state: status, node results, variables, pending interaction."""

    id: str
    flow_id: str
    flow_file: str
    flow_digest: str
    status: RunStatus = RunStatus.RUNNING
    inputs: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, NodeResult] = field(default_factory=dict)
    """node id -> {"output", "error", "outcome", "visits"} for every node that finished."""
    path: list[str] = field(default_factory=list)
    """Node ids in the order they finished (parallel branches included)."""
    waiting: dict[str, Any] | None = None
    """{"node", "interaction", "since", "visit"} while the run waits for a response."""
    result: Any = None
    error: dict[str, Any] | None = None
    trace: list[dict[str, Any]] = field(default_factory=list)
    created_at: float = 0.0
    updated_at: float = 0.0
    started_at: float = 0.0
    deadline: float | None = None
    """When the run times out (started_at + the flow's settings.timeout): a waiting run past
    it is failed by whoever next touches it, or by `flowengine runs expire`."""
    in_flight: dict[str, Any] | None = None
    """While the run is running: the node it runs now or next, as last checkpointed:
    {"node", "visit", "since", "started"} (+ "waiting": the step a response resumed)."""
    owner: str | None = None
    """Who runs it now ("host:pid:token"); another process takes over only past lease_until."""
    lease_until: float = 0.0
    version: int = 0
    """The stored version this copy was read at or last saved as (0: never saved). A save
    based on an older version than the store holds is refused (RunConflictError)."""
    secrets: set[str] = field(default_factory=set, repr=False)
    """Secret values seen by this run (in memory only, never stored): for redaction."""

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.status, 1)

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.flow_id} {self.status} at {self.path[-1:] or '-'}>"

    def to_dict(self) -> dict[str, Any]:
        """The run as JSON data, with every secret value replaced by "[REDACTED]"."""
        data = {name: getattr(self, name) for name in RUN_FIELDS}
        secrets = compile_secrets(frozenset(self.secrets))
        # One scan of everything that may hold a secret (the trace is redacted already);
        # only on a hit is each part walked.
        if secrets.scan([data[name] for name in _REDACTED_FIELDS]):
            for name in _REDACTED_FIELDS:
                data[name] = secrets.redact(data[name])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        """A run from `to_dict()` data (e.g. read back from a store)."""
        run = cls(**{name: data[name] for name in RUN_FIELDS if name in data})
        run.status = RunStatus(run.status)
        return run

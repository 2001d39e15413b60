"""Run stores: where runs are kept between a pause and a resume, and after they end.

`MemoryStore` lives in the process (tests, one-shot runs); `SQLiteStore` is a file that
several processes can share, one row per run with the run's JSON. `open_store(url)` picks
one from a URL: "memory:" or "sqlite:///relative/path.db" / "sqlite:////absolute/path.db".
Stored runs are `Run.to_dict()`: secrets are redacted on the way in, settings never stored.
SQLite keeps a parallel block's `{branch: output}` without repeating the branches' outputs.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from flowengine._errors import RunError
from flowengine._storing.run import Run, RunStatus

__all__ = ["DEFAULT_STORE_URL", "MemoryStore", "RunStore", "SQLiteStore", "open_store"]

DEFAULT_STORE_URL = "sqlite:///.flowengine/runs.db"


class RunStore(Protocol):
    """What the engine needs from a store of runs."""

    def save(self, run: Run) -> None:
        """Insert or replace the run."""

    def load(self, run_id: str) -> Run:
        """The run with this id; RunError if there is none."""

    def list(self, status: str | None = None, limit: int = 50) -> list[Run]:
        """The most recently updated runs, newest first, optionally of one status."""


def _unknown(run_id: str, where: str) -> RunError:
    return RunError(f"No run {run_id!r} in {where}", run_id=run_id)


class MemoryStore:
    """Runs kept in this process as snapshots, so a loaded run never aliases a live one.

    A snapshot copies the run's containers one level deep: the engine replaces node
    results and appends trace events, it never edits them in place, so that is enough
    (and cheap: no JSON round trip of a long trace on every save).
    """

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}

    def save(self, run: Run) -> None:
        self._runs[run.id] = _snapshot(run.to_dict())

    def load(self, run_id: str) -> Run:
        try:
            return _snapshot(self._runs[run_id].__dict__)
        except KeyError:
            raise _unknown(run_id, "the memory store") from None

    def list(self, status: str | None = None, limit: int = 50) -> list[Run]:
        runs = [r for r in self._runs.values() if status is None or r.status == status]
        runs.sort(key=lambda r: r.updated_at, reverse=True)
        return [_snapshot(r.__dict__) for r in runs[:limit]]

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._runs)} runs)"


def _snapshot(data: Mapping[str, Any]) -> Run:
    """A Run from `Run.to_dict()` data (or a stored run's fields), containers copied."""
    waiting, error = data["waiting"], data["error"]
    return Run(
        id=data["id"],
        flow_id=data["flow_id"],
        flow_file=data["flow_file"],
        flow_digest=data["flow_digest"],
        status=RunStatus(data["status"]),
        inputs=dict(data["inputs"]),
        vars=dict(data["vars"]),
        nodes=dict(data["nodes"]),
        path=list(data["path"]),
        waiting=dict(waiting) if waiting else None,
        result=data["result"],
        error=dict(error) if error else None,
        trace=list(data["trace"]),
        created_at=data["created_at"],
        updated_at=data["updated_at"],
        started_at=data["started_at"],
    )


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    flow_id TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_status_updated ON runs (status, updated_at);
"""


class SQLiteStore:
    """Runs in one SQLite file, which several processes may share.

    One connection per store, kept open (opening one per call cost more than the query),
    in WAL mode with `synchronous=NORMAL`: a commit survives the process being killed; only
    a power cut can lose the last commits before SQLite's next checkpoint.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # timeout: wait for another process's write instead of failing with "locked";
        # check_same_thread=False with the lock: a server may call from worker threads.
        self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._lock = threading.Lock()
        self._closer = weakref.finalize(self, self._conn.close)
        with self._lock, self._conn:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the store's connection (also done when the store is collected)."""
        self._closer()

    def save(self, run: Run) -> None:
        # No default=str: a value that is not JSON is an error, never stored as its text.
        body = json.dumps(_pack(run.to_dict()), allow_nan=False)
        with self._lock, self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO runs (id, flow_id, status, updated_at, body)"
                " VALUES (?, ?, ?, ?, ?)",
                (run.id, run.flow_id, run.status, run.updated_at, body),
            )

    def load(self, run_id: str) -> Run:
        with self._lock:
            row = self._conn.execute("SELECT body FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise _unknown(run_id, str(self.path))
        return Run.from_dict(_unpack(json.loads(row[0])))

    def list(self, status: str | None = None, limit: int = 50) -> list[Run]:
        query = "SELECT body FROM runs"
        args: tuple[object, ...] = ()
        if status is not None:
            query += " WHERE status = ?"
            args = (status,)
        query += " ORDER BY updated_at DESC LIMIT ?"
        with self._lock:
            rows = self._conn.execute(query, (*args, limit)).fetchall()
        return [Run.from_dict(_unpack(json.loads(r[0]))) for r in rows]

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"


_SHARED = "shared_outputs"
"""Stored body key: node id -> the keys of its output that are other nodes' outputs."""


def _pack(data: dict[str, Any]) -> dict[str, Any]:
    """Run data with each output that is also another node's output stored once.

    A parallel block's output is `{branch: output}` holding its branches' very outputs
    (often most of a run's size: images); the copy under the block is left out and named in
    `shared_outputs`. Only the same object counts, so loading gives back equal data.
    """
    nodes = data["nodes"]
    shared: dict[str, list[str]] = {}
    for node_id, result in nodes.items():
        output = result.get("output") if isinstance(result, dict) else None
        if isinstance(output, dict):
            same = [k for k, v in output.items() if _same_output(nodes, node_id, k, v)]
            if same:
                shared[node_id] = same
    if not shared:
        return data
    packed = dict(nodes)
    for node_id, keys in shared.items():
        output = {k: None if k in keys else v for k, v in nodes[node_id]["output"].items()}
        packed[node_id] = {**nodes[node_id], "output": output}
    return {**data, "nodes": packed, _SHARED: shared}


def _same_output(nodes: Mapping[str, Any], owner: str, key: Any, value: Any) -> bool:
    """Whether `value` (under `key` in node `owner`'s output) is node `key`'s output itself."""
    if key == owner or not isinstance(value, dict | list) or not isinstance(key, str):
        return False
    other = nodes.get(key)
    return isinstance(other, dict) and other.get("output") is value


def _unpack(data: dict[str, Any]) -> dict[str, Any]:
    """Stored run data with the outputs `_pack` left out put back (the same objects)."""
    shared = data.pop(_SHARED, None)
    if shared:
        nodes = data["nodes"]
        for node_id, keys in shared.items():
            output = nodes[node_id]["output"]
            for key in keys:
                output[key] = nodes[key]["output"]
    return data


def open_store(url: str) -> RunStore:
    """The store a URL names: "memory:" or "sqlite:///path/to.db"."""
    if url in ("memory:", "memory://"):
        return MemoryStore()
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path:
            raise RunError(f"Store URL {url!r} has no file path; write sqlite:///path/to/runs.db")
        return SQLiteStore(path)
    raise RunError(f"Unknown run store URL {url!r}; use 'memory:' or 'sqlite:///path/to/runs.db'")

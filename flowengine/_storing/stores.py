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

from flowengine._errors import RunConflictError, RunError
from flowengine._storing.run import RUN_FIELDS, Run, RunStatus

__all__ = ["DEFAULT_STORE_URL", "MemoryStore", "RunStore", "SQLiteStore", "open_store"]

DEFAULT_STORE_URL = "sqlite:///.flowengine/runs.db"


class RunStore(Protocol):
    """What the engine and the flow API await of a store of runs.

    Every run carries a version: `save` writes the run only if the store still holds the
    version the run was read at (or none, for a new run) and then bumps it; otherwise it
    raises RunConflictError and writes nothing.
    """

    async def save(self, run: Run) -> None:
        """Write the run (what changed since it was read), bumping `run.version`."""

    async def load(self, run_id: str) -> Run:
        """The run with this id; RunError if there is none."""

    async def list(
        self,
        status: str | None = None,
        limit: int = 50,
        *,
        flow_id: str | None = None,
        deadline_before: float | None = None,
    ) -> list[Run]:
        """The most recently updated runs, newest first, optionally of one status or flow,
        or only those whose deadline is before a time."""

    async def prune(self, ended_before: float) -> int:
        """Delete the completed and failed runs last updated before a time; how many."""

    async def aclose(self) -> None:
        """Close what the store holds open."""


def _conflict(run: Run, stored: int | None, where: str) -> RunConflictError:
    found = "no run" if stored is None else f"version {stored}"
    return RunConflictError(
        f"Run {run.id} changed in {where} since it was read (it was read at version "
        f"{run.version}, the store holds {found}): another request or server went on with "
        "it; read the run again",
        run_id=run.id,
        stored=stored,
    )


def _ended(status: str) -> bool:
    return status in (RunStatus.COMPLETED, RunStatus.FAILED)


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

    async def save(self, run: Run) -> None:
        stored = self._runs.get(run.id)
        if (stored.version if stored else 0) != run.version:
            raise _conflict(run, stored.version if stored else None, "the memory store")
        run.version += 1
        self._runs[run.id] = _snapshot(run.to_dict())

    async def load(self, run_id: str) -> Run:
        try:
            return _snapshot(self._runs[run_id].__dict__)
        except KeyError:
            raise _unknown(run_id, "the memory store") from None

    async def list(
        self,
        status: str | None = None,
        limit: int = 50,
        *,
        flow_id: str | None = None,
        deadline_before: float | None = None,
    ) -> list[Run]:
        runs = [
            r
            for r in self._runs.values()
            if (status is None or r.status == status)
            and (flow_id is None or r.flow_id == flow_id)
            and (deadline_before is None or (r.deadline or deadline_before) < deadline_before)
        ]
        runs.sort(key=lambda r: r.updated_at, reverse=True)
        return [_snapshot(r.__dict__) for r in runs[:limit]]

    async def prune(self, ended_before: float) -> int:
        runs = self._runs.items()
        gone = [k for k, r in runs if _ended(r.status) and r.updated_at < ended_before]
        for key in gone:
            del self._runs[key]
        return len(gone)

    async def aclose(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._runs)} runs)"


def _snapshot(data: Mapping[str, Any]) -> Run:
    """A Run from `Run.to_dict()` data (or a stored run's fields), containers copied."""
    run = Run(**{name: data[name] for name in RUN_FIELDS})
    run.status = RunStatus(run.status)
    for name in ("inputs", "vars", "nodes", "waiting", "error", "in_flight"):
        value = getattr(run, name)
        if value is not None:
            setattr(run, name, dict(value))
    run.path, run.trace = list(run.path), list(run.trace)
    return run


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
    a power cut can lose the last commits before SQLite's next checkpoint. The calls are
    short and local, so they run on the event loop's thread.
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
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(runs)")}
            for name, kind in (("version", "INTEGER NOT NULL DEFAULT 1"), ("deadline", "REAL")):
                if name not in columns:
                    self._conn.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")

    def close(self) -> None:
        """Close the store's connection (also done when the store is collected)."""
        self._closer()

    async def aclose(self) -> None:
        self.close()

    async def save(self, run: Run) -> None:
        # No default=str: a value that is not JSON is an error, never stored as its text.
        data = run.to_dict()
        data["version"] = run.version + 1
        body = json.dumps(_pack(data), allow_nan=False)
        with self._lock, self._conn:
            if run.version == 0:
                done = self._conn.execute(
                    "INSERT OR IGNORE INTO runs"
                    " (id, flow_id, status, updated_at, body, version, deadline)"
                    " VALUES (?, ?, ?, ?, ?, 1, ?)",
                    (run.id, run.flow_id, run.status, run.updated_at, body, run.deadline),
                )
            else:
                done = self._conn.execute(
                    "UPDATE runs SET status = ?, updated_at = ?, body = ?, version = ?,"
                    " deadline = ? WHERE id = ? AND version = ?",
                    (
                        run.status,
                        run.updated_at,
                        body,
                        run.version + 1,
                        run.deadline,
                        run.id,
                        run.version,
                    ),
                )
            if done.rowcount != 1:
                row = self._conn.execute(
                    "SELECT version FROM runs WHERE id = ?", (run.id,)
                ).fetchone()
                raise _conflict(run, row[0] if row else None, str(self.path))
        run.version += 1

    async def load(self, run_id: str) -> Run:
        with self._lock:
            row = self._conn.execute(
                "SELECT body, version FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
        if row is None:
            raise _unknown(run_id, str(self.path))
        return _from_row(row)

    async def list(
        self,
        status: str | None = None,
        limit: int = 50,
        *,
        flow_id: str | None = None,
        deadline_before: float | None = None,
    ) -> list[Run]:
        where, args = [], []
        for clause, value in (
            ("status = ?", status),
            ("flow_id = ?", flow_id),
            ("deadline < ?", deadline_before),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        query = "SELECT body, version FROM runs"
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY updated_at DESC LIMIT ?"
        with self._lock:
            rows = self._conn.execute(query, (*args, limit)).fetchall()
        return [_from_row(r) for r in rows]

    async def prune(self, ended_before: float) -> int:
        with self._lock, self._conn:
            done = self._conn.execute(
                "DELETE FROM runs WHERE status IN (?, ?) AND updated_at < ?",
                (RunStatus.COMPLETED, RunStatus.FAILED, ended_before),
            )
        return done.rowcount

    def __repr__(self) -> str:
        return f"SQLiteStore({str(self.path)!r})"


def _from_row(row: tuple[str, int]) -> Run:
    run = Run.from_dict(_unpack(json.loads(row[0])))
    run.version = row[1]
    return run


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

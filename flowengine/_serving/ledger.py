"""What the server keeps beside the runs, in the same store, so any server can answer.

* the authorize request of each pi.flow run (client, redirect URI, state, PKCE challenge);
* claims: the waiting step of a run each continue consumed, so that two continues of the
  same step (in one process or in several sharing the store) apply exactly once;
* screens: which step a pi.flow client's interaction token names while the run moved on
  without showing a new screen (a form re-shown with errors, a QR code still polled);
* authorization codes, by their SHA-256 (never in clear), single-use and short-lived.

A SQLite run store gets `serving_*` tables in its own file; a memory store a memory ledger.
The HMAC key of interaction tokens lives in `<store file>.serve-key` (0600) unless the
config names a key file; with a memory store it is made per process.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from flowengine._storing.stores import RunStore, SQLiteStore

__all__ = ["Ledger", "MemoryLedger", "SQLiteLedger", "ledger_for", "load_key"]


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class Ledger(Protocol):
    """What the server keeps beside the runs (see the module docstring)."""

    def save_auth(self, run_id: str, auth: dict[str, Any]) -> None: ...
    def auth(self, run_id: str) -> dict[str, Any] | None: ...
    def claim(self, run_id: str, step: str) -> bool:
        """True for the first claim of (run, step), False for every later one."""

    def release(self, run_id: str, step: str) -> None:
        """Forget a claim whose continue failed before anything was saved."""

    def screen(self, run_id: str) -> tuple[str, str] | None:
        """(the step the client's token names, the run's step it now stands for)."""

    def set_screen(self, run_id: str, token_step: str, current: str) -> None: ...
    def save_code(self, code: str, grant: dict[str, Any]) -> None: ...
    def use_code(self, code: str) -> dict[str, Any] | None:
        """The grant of an unused code, marking it used; None if unknown or used."""

    def close(self) -> None: ...


class MemoryLedger:
    """The ledger of a memory store: one process, one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._auth: dict[str, dict[str, Any]] = {}
        self._claims: set[tuple[str, str]] = set()
        self._screens: dict[str, tuple[str, str]] = {}
        self._codes: dict[str, dict[str, Any] | None] = {}

    def save_auth(self, run_id: str, auth: dict[str, Any]) -> None:
        with self._lock:
            self._auth[run_id] = dict(auth)

    def auth(self, run_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._auth.get(run_id)
            return dict(found) if found else None

    def claim(self, run_id: str, step: str) -> bool:
        with self._lock:
            if (run_id, step) in self._claims:
                return False
            self._claims.add((run_id, step))
            return True

    def release(self, run_id: str, step: str) -> None:
        with self._lock:
            self._claims.discard((run_id, step))

    def screen(self, run_id: str) -> tuple[str, str] | None:
        with self._lock:
            return self._screens.get(run_id)

    def set_screen(self, run_id: str, token_step: str, current: str) -> None:
        with self._lock:
            self._screens[run_id] = (token_step, current)

    def save_code(self, code: str, grant: dict[str, Any]) -> None:
        with self._lock:
            self._codes[_digest(code)] = dict(grant)

    def close(self) -> None:
        pass

    def use_code(self, code: str) -> dict[str, Any] | None:
        with self._lock:
            key = _digest(code)
            grant = self._codes.get(key)
            if grant is not None:
                self._codes[key] = None  # used: remembered, never given again
            return grant


_SCHEMA = """
CREATE TABLE IF NOT EXISTS serving_auth (run_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS serving_claims (
    run_id TEXT NOT NULL, step TEXT NOT NULL, PRIMARY KEY (run_id, step));
CREATE TABLE IF NOT EXISTS serving_screens (
    run_id TEXT PRIMARY KEY, token_step TEXT NOT NULL, current TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS serving_codes (
    code_sha256 TEXT PRIMARY KEY, body TEXT NOT NULL, used INTEGER NOT NULL DEFAULT 0);
"""


class SQLiteLedger:
    """The ledger in the SQLite store's file: every server sharing the file shares it.

    One connection is kept open (guarded by a lock): besides saving a connect per call, an
    open connection spares the store's own short-lived connections a WAL checkpoint each
    time they close. Its commits use `synchronous=NORMAL` (durable once checkpointed; a
    claim or a screen lost to a power cut only refuses a step the client must redo).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._lock, self._conn:
            self._conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn

    def close(self) -> None:
        self._conn.close()

    def save_auth(self, run_id: str, auth: dict[str, Any]) -> None:
        with self._connect() as conn, conn:
            conn.execute(
                "INSERT OR REPLACE INTO serving_auth (run_id, body) VALUES (?, ?)",
                (run_id, json.dumps(auth)),
            )

    def auth(self, run_id: str) -> dict[str, Any] | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT body FROM serving_auth WHERE run_id = ?", (run_id,)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def claim(self, run_id: str, step: str) -> bool:
        with self._connect() as conn, conn:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO serving_claims (run_id, step) VALUES (?, ?)",
                (run_id, step),
            )
            return cursor.rowcount == 1

    def release(self, run_id: str, step: str) -> None:
        with self._connect() as conn, conn:
            conn.execute("DELETE FROM serving_claims WHERE run_id = ? AND step = ?", (run_id, step))

    def screen(self, run_id: str) -> tuple[str, str] | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT token_step, current FROM serving_screens WHERE run_id = ?", (run_id,)
            ).fetchone()
        return (row[0], row[1]) if row else None

    def set_screen(self, run_id: str, token_step: str, current: str) -> None:
        with self._connect() as conn, conn:
            conn.execute(
                "INSERT OR REPLACE INTO serving_screens (run_id, token_step, current)"
                " VALUES (?, ?, ?)",
                (run_id, token_step, current),
            )

    def save_code(self, code: str, grant: dict[str, Any]) -> None:
        with self._connect() as conn, conn:
            conn.execute(
                "INSERT INTO serving_codes (code_sha256, body) VALUES (?, ?)",
                (_digest(code), json.dumps(grant)),
            )

    def use_code(self, code: str) -> dict[str, Any] | None:
        key = _digest(code)
        with self._connect() as conn, conn:
            used = conn.execute(
                "UPDATE serving_codes SET used = 1 WHERE code_sha256 = ? AND used = 0", (key,)
            )
            if used.rowcount != 1:
                return None
            row = conn.execute(
                "SELECT body FROM serving_codes WHERE code_sha256 = ?", (key,)
            ).fetchone()
        return json.loads(row[0]) if row else None


def ledger_for(store: RunStore) -> Ledger:
    """The ledger that lives with `store`."""
    if isinstance(store, SQLiteStore):
        return SQLiteLedger(store.path)
    return MemoryLedger()


def load_key(store: RunStore, key_file: str | None) -> bytes:
    """The tokens' HMAC key: from `key_file`, else beside a SQLite store; made when missing."""
    path: Path | None = Path(key_file) if key_file else None
    if path is None and isinstance(store, SQLiteStore):
        path = store.path.with_name(store.path.name + ".serve-key")
    if path is None:
        return secrets.token_bytes(32)
    if path.exists():
        key = path.read_bytes().strip()
        if len(key) < 32:
            raise ValueError(f"the key file {path} holds under 32 bytes; delete it to make one")
        return key
    key = secrets.token_hex(32).encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key

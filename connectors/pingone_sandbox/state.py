"""The sandbox's state: JSON objects by kind and key, in memory, optionally mirrored to SQLite.

Reads always come from memory (the hot path never touches the disk); with a `data_path` every
write is also saved to a SQLite file, which is loaded back at start, so a restart keeps the state.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["Store", "iso", "new_id"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS objects ("
    " kind TEXT NOT NULL, key TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, key))"
)


def new_id() -> str:
    """A fresh resource id (UUID4, as PingOne uses)."""
    return str(uuid.uuid4())


@lru_cache(maxsize=8192)
def iso(ts: float) -> str:
    """Epoch seconds -> PingOne's timestamp form, e.g. `2021-11-04T17:32:17.195Z`."""
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Store:
    """Objects by (kind, key); `put` after every change so the SQLite mirror stays current."""

    def __init__(self, data_path: str | Path | None = None) -> None:
        self._data: dict[str, dict[str, dict[str, Any]]] = {}
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        if data_path is not None:
            self._open(Path(data_path))

    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the event loop thread; the lock serialises writers.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        for kind, key, data in self._db.execute("SELECT kind, key, data FROM objects"):
            self._data.setdefault(kind, {})[key] = json.loads(data)

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        """The object, or None."""
        bucket = self._data.get(kind)
        return bucket.get(key) if bucket is not None else None

    def put(self, kind: str, key: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Store (or re-store after a change) an object."""
        self._data.setdefault(kind, {})[key] = obj
        if self._db is not None:
            with self._lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO objects (kind, key, data) VALUES (?, ?, ?)",
                    (kind, key, json.dumps(obj, separators=(",", ":"))),
                )
        return obj

    def delete(self, kind: str, key: str) -> dict[str, Any] | None:
        """Remove an object; returns it, or None when absent."""
        obj = self._data.get(kind, {}).pop(key, None)
        if obj is not None and self._db is not None:
            with self._lock:
                self._db.execute("DELETE FROM objects WHERE kind = ? AND key = ?", (kind, key))
        return obj

    def values(self, kind: str) -> Iterator[dict[str, Any]]:
        """Every object of a kind (a snapshot, safe to delete from while iterating)."""
        return iter(list(self._data.get(kind, {}).values()))

    def items(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every (key, object) of a kind (a snapshot)."""
        return iter(list(self._data.get(kind, {}).items()))

    def close(self) -> None:
        """Close the SQLite file, if any."""
        if self._db is not None:
            self._db.close()
            self._db = None

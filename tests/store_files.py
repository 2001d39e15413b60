"""What a SQLite run store keeps on disk, for tests that scan it for values it must not hold.

A store in WAL mode keeps recent commits in `<file>-wal` until a checkpoint: a scan of the
main file alone could miss them, and pass for the wrong reason.
"""

from __future__ import annotations

from pathlib import Path


def stored_bytes(db: Path) -> bytes:
    """The database file and its write-ahead log, as written so far."""
    wal = db.with_name(db.name + "-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def stored_text(db: Path) -> str:
    """`stored_bytes` as text (undecodable bytes replaced)."""
    return stored_bytes(db).decode("utf-8", "replace")

"""The witness's memory: per origin, the latest checkpoint it cosigned, in one SQLite file.

The invariant a witness lives by (tlog-witness): never cosign two checkpoints of
one origin that are not one a prefix of the other. Checking the old size
against the stored checkpoint and storing the new one must therefore be one
atomic step, or two requests racing (size N and N+K) could roll the record
back by K leaves. :meth:`State.transaction` opens ``BEGIN IMMEDIATE``: SQLite
takes the database's write lock before the first read, so every check-and-
persist runs alone, across threads and processes sharing the file, and a
second writer waits (``busy_timeout``) rather than reading a size that is
about to change. ``synchronous=FULL`` makes the commit durable before the
witness answers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from provenance.errors import ProvenanceError
from provenance.merkle import EMPTY_ROOT

MAX_EVIDENCE_PER_ORIGIN = 1000  # refused-but-log-signed requests kept as evidence of misbehaviour

_SCHEMA = """
CREATE TABLE IF NOT EXISTS checkpoint (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL CHECK (size >= 0),
    root BLOB NOT NULL CHECK (length(root) = 32),
    note TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    request BLOB NOT NULL
);
"""


@dataclass(frozen=True)
class Latest:
    """The latest cosigned checkpoint of an origin (size 0 and the empty root when there is none)."""

    size: int
    root: bytes
    note: str | None
    cosigned_at: int


class Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def latest(self, origin: str) -> Latest:
        row = self._db.execute(
            "SELECT size, root, note, cosigned_at FROM checkpoint WHERE origin = ?", (origin,)
        ).fetchone()
        if row is None:
            return Latest(0, EMPTY_ROOT, None, 0)
        return Latest(int(row[0]), bytes(row[1]), str(row[2]), int(row[3]))

    def record(self, origin: str, size: int, root: bytes, note: str, cosigned_at: int) -> None:
        self._db.execute(
            "INSERT INTO checkpoint (origin, size, root, note, cosigned_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
            "note = excluded.note, cosigned_at = excluded.cosigned_at",
            (origin, size, root, note, cosigned_at),
        )

    def keep_evidence(self, origin: str, received_at: int, reason: str, request: bytes) -> None:
        (count,) = self._db.execute("SELECT count(*) FROM evidence WHERE origin = ?", (origin,)).fetchone()
        if count < MAX_EVIDENCE_PER_ORIGIN:
            self._db.execute(
                "INSERT INTO evidence (origin, received_at, reason, request) VALUES (?, ?, ?, ?)",
                (origin, received_at, reason, request),
            )


class State:
    """A state file; each transaction opens its own connection, so one State serves many threads."""

    def __init__(self, path: str | Path, *, busy_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        try:
            with self._connect() as db:
                db.execute("PRAGMA journal_mode = WAL")
                db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise ProvenanceError(f"cannot open the witness state {self.path}: {exc}") from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            db.execute("PRAGMA synchronous = FULL")
            yield db
        finally:
            db.close()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """BEGIN IMMEDIATE … COMMIT; an exception rolls everything back."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def latest(self, origin: str) -> Latest:
        with self._connect() as db:
            return Transaction(db).latest(origin)

    def evidence(self, origin: str) -> list[tuple[str, bytes]]:
        with self._connect() as db:
            rows = db.execute("SELECT reason, request FROM evidence WHERE origin = ? ORDER BY id", (origin,))
            return [(str(r), bytes(q)) for r, q in rows.fetchall()]

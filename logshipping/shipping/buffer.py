"""The persistent buffer: python-logstash-async's SQLite `DatabaseCache`, batched and bounded.

The library's cache opens a connection, runs one statement and commits for every event (and marks
rows `pending_delete` with an UPDATE before each send); that fsync-bound pattern is what limits it
to a few hundred events/s. This subclass keeps the library's interface and error translation but:

- keeps one connection, in WAL mode with synchronous=NORMAL (a commit survives a process kill;
  only a power cut can lose the last transactions);
- stores a chunk per level per ingest (newline-terminated JSON lines in one BLOB) instead of a row
  per event, so the shipper thread's work per event is a memory copy, not a SQLite row;
- writes each chunk together with the journal position it came from in ONE transaction, so a crash
  never ingests a journal record twice or loses one;
- needs no `pending_delete` flag: one thread owns the file, reads the oldest chunks, sends them and
  deletes up to the last chunk it sent;
- bounds the buffer by event count, by bytes (the events' JSON lines) and by age, dropping the
  lowest level (oldest first) first, line by line, so the drop count is exact;
- is private to its user: the file is created 0600 before SQLite opens it, and SQLite gives its
  `-wal` and `-shm` files the database file's mode.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from logstash_async.database import DatabaseCache, DatabaseDiskIOError, DatabaseLockedError

_SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS chunk (
        chunk_id INTEGER PRIMARY KEY AUTOINCREMENT,
        level INTEGER NOT NULL,
        event_count INTEGER NOT NULL,
        events BLOB NOT NULL,
        entry_date REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS idx_chunk_level ON chunk (level, chunk_id)",
    """CREATE TABLE IF NOT EXISTS journal_position (
        id INTEGER PRIMARY KEY CHECK (id = 0), seq INTEGER NOT NULL, offset INTEGER NOT NULL)""",
)
_MAX_CHUNK_BYTES: Final = 1 << 20  # bounds one TCP write and one row
FILE_MODE: Final = 0o600


class BufferUnusableError(Exception):
    """The buffer file cannot be used (other than locked / disk I/O, which the library names)."""


def _translate(exc: sqlite3.Error) -> Exception:
    message = str(exc)
    translated: Exception = BufferUnusableError(message)
    if "locked" in message:
        translated = DatabaseLockedError(message)
    elif "disk" in message or "readonly" in message or "unable to open" in message:
        translated = DatabaseDiskIOError(message)
    return translated


def split_chunk(lines: bytes, count: int) -> list[tuple[bytes, int]]:
    """Cuts newline-terminated lines into pieces of at most ~1 MiB (on line boundaries)."""
    if len(lines) <= _MAX_CHUNK_BYTES:
        return [(lines, count)]
    pieces = []
    start = 0
    while start < len(lines):
        cut = lines.rfind(b"\n", start, start + _MAX_CHUNK_BYTES) + 1
        if cut <= start:  # one line longer than the bound: keep it whole
            cut = lines.index(b"\n", start) + 1
        pieces.append((lines[start:cut], lines.count(b"\n", start, cut)))
        start = cut
    return pieces


def _create_private(path: Path) -> None:
    """Create the database file 0600 (if absent) before SQLite opens it, whatever the umask:
    SQLite creates the `-wal` and `-shm` files with the mode of the database file."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    except OSError as exc:
        raise sqlite3.OperationalError(f"unable to open database file: {exc}") from exc
    try:
        os.fchmod(descriptor, FILE_MODE)
    finally:
        os.close(descriptor)


class BatchDatabaseCache(DatabaseCache):  # type: ignore[misc]
    """SQLite buffer of one process; every method is called from its shipper thread only."""

    def __init__(
        self,
        path: Path,
        *,
        max_events: int,
        max_age_s: float,
        batch_size: int,
        max_bytes: int = 2**62,
        create: bool = True,
    ) -> None:
        super().__init__(str(path), event_ttl=max_age_s)
        self.event_ttl = max_age_s
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.batch_size = batch_size
        # (last chunk id, events, bytes) of the last fetch
        self._fetched: tuple[int, int, int] = (0, 0, 0)
        try:
            if create:
                _create_private(path)
            uri = f"file:{path}?mode={'rwc' if create else 'rw'}"
            self._conn = sqlite3.connect(uri, uri=True, timeout=5.0, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                self._conn.execute(statement)
            self._recount()
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    def _recount(self) -> None:
        self.count = self._scalar("SELECT sum(event_count) FROM chunk")
        self.size_bytes = self._scalar("SELECT sum(length(events)) FROM chunk")

    def _scalar(self, query: str, params: Sequence[Any] = ()) -> int:
        row = self._conn.execute(query, params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def close(self) -> None:
        """Closes the connection (the file and its events stay)."""
        self._conn.close()

    def add_event(self, event: bytes) -> None:
        """The library's one-event entry point, kept for its interface (info level)."""
        self.add_chunks({20: (event, event.count(b"\n"))})

    def add_chunks(
        self, chunks: Mapping[int, tuple[bytes, int]], position: tuple[int, int] | None = None
    ) -> int:
        """Stores {level: (lines, count)} and the journal position in ONE transaction.

        Returns how many events the size bound dropped.
        """
        now = time.time()
        rows = [
            (level, piece_count, piece, now)
            for level, (lines, count) in chunks.items()
            for piece, piece_count in split_chunk(lines, count)
        ]
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT INTO chunk (level, event_count, events, entry_date) "
                    "VALUES (?, ?, ?, ?)",
                    rows,
                )
                if position is not None:
                    self._conn.execute(
                        "INSERT OR REPLACE INTO journal_position (id, seq, offset) "
                        "VALUES (0, ?, ?)",
                        position,
                    )
                self.count += sum(row[1] for row in rows)
                self.size_bytes += sum(len(row[2]) for row in rows)
                dropped = self._trim_to_size()
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                self._recount()
                raise
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        return dropped

    def _trim_to_size(self) -> int:
        """Drops lines, lowest level and oldest first, until both bounds hold; returns how many."""
        dropped = 0
        while self.count > self.max_events or self.size_bytes > self.max_bytes:
            # The (level, chunk_id) index yields debug, then info, ... oldest first.
            row = self._conn.execute(
                "SELECT chunk_id, event_count, events FROM chunk ORDER BY level, chunk_id LIMIT 1"
            ).fetchone()
            if row is None:
                break
            chunk_id, count, lines = row
            excess_events = self.count - self.max_events
            excess_bytes = self.size_bytes - self.max_bytes
            cut = removed = 0
            while removed < count and (removed < excess_events or cut < excess_bytes):
                cut = lines.index(b"\n", cut) + 1
                removed += 1
            if removed >= count:
                self._conn.execute("DELETE FROM chunk WHERE chunk_id = ?", (chunk_id,))
                cut = len(lines)
            else:  # drop only the oldest lines of this chunk
                self._conn.execute(
                    "UPDATE chunk SET events = ?, event_count = ? WHERE chunk_id = ?",
                    (lines[cut:], count - removed, chunk_id),
                )
            dropped += removed
            self.count -= removed
            self.size_bytes -= cut
        return dropped

    def save_position(self, position: tuple[int, int]) -> None:
        """Records that the journal up to `position` is delivered or stored (one small commit)."""
        try:
            self._conn.execute(
                "INSERT OR REPLACE INTO journal_position (id, seq, offset) VALUES (0, ?, ?)",
                position,
            )
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    def journal_position(self) -> tuple[int, int] | None:
        """The journal (segment, offset) the last committed batch ended at."""
        row = self._conn.execute("SELECT seq, offset FROM journal_position").fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def get_queued_events(self) -> list[bytes]:
        """The oldest chunks, about `batch_size` events (at least one chunk); nothing is marked."""
        try:
            rows = self._conn.execute(
                "SELECT chunk_id, event_count, events FROM chunk ORDER BY chunk_id LIMIT 64"
            ).fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        taken: list[bytes] = []
        events = size = 0
        last_id = 0
        for chunk_id, count, lines in rows:
            if taken and events + count > self.batch_size:
                break
            taken.append(lines)
            events += count
            size += len(lines)
            last_id = chunk_id
        self._fetched = (last_id, events, size)
        return taken

    def requeue_queued_events(self, events: object) -> None:
        """Nothing to undo: fetched chunks are only deleted after a successful send."""

    def delete_queued_events(self) -> None:
        """Deletes every chunk up to the last one fetched (they were sent)."""
        last_id, events, size = self._fetched
        try:
            self._conn.execute("DELETE FROM chunk WHERE chunk_id <= ?", (last_id,))
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        self.count -= events
        self.size_bytes -= size
        self._fetched = (0, 0, 0)

    def expire_events(self) -> int:
        """Deletes events older than the age bound; returns how many."""
        cutoff = time.time() - self.event_ttl
        try:
            oldest = self._conn.execute(
                "SELECT entry_date FROM chunk ORDER BY chunk_id LIMIT 1"
            ).fetchone()
            if oldest is None or oldest[0] >= cutoff:
                return 0  # the common case costs one indexed lookup
            expired = self._scalar(
                "SELECT sum(event_count) FROM chunk WHERE entry_date < ?", (cutoff,)
            )
            expired_bytes = self._scalar(
                "SELECT sum(length(events)) FROM chunk WHERE entry_date < ?", (cutoff,)
            )
            self._conn.execute("DELETE FROM chunk WHERE entry_date < ?", (cutoff,))
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        self.count -= expired
        self.size_bytes -= expired_bytes
        return expired

    def get_non_flushed_event_count(self) -> int:
        """Events waiting to be sent."""
        return self.count

    def adopt(self, other: Path) -> tuple[int, int]:
        """Moves every event of another (dead) process's buffer file into this one.

        Returns (moved, dropped by the size bound); the caller deletes `other` afterwards.
        """
        try:
            self._conn.execute("ATTACH DATABASE ? AS orphan", (f"file:{other}?mode=rw",))
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            moved = self._scalar("SELECT sum(event_count) FROM orphan.chunk")
            moved_bytes = self._scalar("SELECT sum(length(events)) FROM orphan.chunk")
            self._conn.execute(
                "INSERT INTO main.chunk (level, event_count, events, entry_date) "
                "SELECT level, event_count, events, entry_date FROM orphan.chunk "
                "ORDER BY chunk_id"
            )
            self.count += moved
            self.size_bytes += moved_bytes
            dropped = self._trim_to_size()
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._conn.execute("ROLLBACK")
            raise _translate(exc) from exc
        finally:
            self._conn.execute("DETACH DATABASE orphan")
        return moved, dropped

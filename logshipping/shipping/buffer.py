"""The persistent buffer: python-logstash-async's SQLite `DatabaseCache`, batched and bounded.

The library's cache opens a connection, runs one statement and commits for every event (and marks
rows `pending_delete` with an UPDATE before each send); that fsync-bound pattern is what limits it
to about 500 events/s. This subclass keeps the library's interface and error translation but:

- keeps one connection, in WAL mode with synchronous=NORMAL (a commit survives a process kill;
  only a power cut can lose the last transactions);
- inserts a whole batch in one transaction, together with the journal position it came from, so
  a crash never ingests a journal record twice or loses one;
- needs no `pending_delete` flag: one worker thread owns the file, it reads the oldest rows,
  sends them and deletes up to the last id it sent;
- bounds the buffer by count and age, dropping the lowest levels (then the oldest) first.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from logstash_async.database import DatabaseCache, DatabaseDiskIOError, DatabaseLockedError

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS event (
        event_id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_text BLOB NOT NULL,
        level INTEGER NOT NULL,
        entry_date REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS idx_event_level ON event (level, event_id)",
    """CREATE TABLE IF NOT EXISTS journal_position (
        id INTEGER PRIMARY KEY CHECK (id = 0), seq INTEGER NOT NULL, offset INTEGER NOT NULL)""",
)


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


class BatchDatabaseCache(DatabaseCache):  # type: ignore[misc]
    """SQLite buffer of one process; every method is called from its shipper thread only."""

    def __init__(
        self,
        path: Path,
        *,
        max_events: int,
        max_age_s: float,
        batch_size: int,
        create: bool = True,
    ) -> None:
        super().__init__(str(path), event_ttl=max_age_s)
        self.event_ttl = max_age_s
        self.max_events = max_events
        self.batch_size = batch_size
        self._last_fetched_id = 0
        try:
            uri = f"file:{path}?mode={'rwc' if create else 'rw'}"
            self._conn = sqlite3.connect(uri, uri=True, timeout=5.0, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                self._conn.execute(statement)
            self.count = self._scalar("SELECT count(*) FROM event")
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    def _scalar(self, query: str, params: Sequence[Any] = ()) -> int:
        row = self._conn.execute(query, params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def close(self) -> None:
        """Closes the connection (the file and its events stay)."""
        self._conn.close()

    def add_event(self, event: bytes, level: int = 20) -> None:
        """The library's one-event entry point, kept for its interface."""
        self.add_events([(event, level)])

    def add_events(
        self, events: Iterable[tuple[bytes, int]], position: tuple[int, int] | None = None
    ) -> int:
        """Inserts `(json_line, level)` rows and the journal position in ONE transaction.

        Returns how many events the size bound dropped.
        """
        now = time.time()
        rows = [(text, level, now) for text, level in events]
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT INTO event (event_text, level, entry_date) VALUES (?, ?, ?)", rows
                )
                if position is not None:
                    self._conn.execute(
                        "INSERT OR REPLACE INTO journal_position (id, seq, offset) "
                        "VALUES (0, ?, ?)",
                        position,
                    )
                self.count += len(rows)
                dropped = self._trim_to_size()
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                self.count = self._scalar("SELECT count(*) FROM event")
                raise
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        return dropped

    def _trim_to_size(self) -> int:
        excess = self.count - self.max_events
        if excess <= 0:
            return 0
        # The (level, event_id) index makes this pick debug, then info, ... oldest first.
        self._conn.execute(
            "DELETE FROM event WHERE event_id IN "
            "(SELECT event_id FROM event ORDER BY level, event_id LIMIT ?)",
            (excess,),
        )
        self.count -= excess
        return excess

    def journal_position(self) -> tuple[int, int] | None:
        """The journal (segment, offset) the last committed batch ended at."""
        row = self._conn.execute("SELECT seq, offset FROM journal_position").fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def get_queued_events(self) -> list[tuple[int, bytes]]:
        """The oldest `batch_size` events as (event_id, json_line); nothing is marked."""
        try:
            rows = self._conn.execute(
                "SELECT event_id, event_text FROM event ORDER BY event_id LIMIT ?",
                (self.batch_size,),
            ).fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        if rows:
            self._last_fetched_id = rows[-1][0]
        return rows

    def requeue_queued_events(self, events: object) -> None:
        """Nothing to undo: fetched events are only deleted after a successful send."""

    def delete_queued_events(self) -> None:
        """Deletes every event up to the last one fetched (they were sent)."""
        try:
            cursor = self._conn.execute(
                "DELETE FROM event WHERE event_id <= ?", (self._last_fetched_id,)
            )
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        self.count -= max(cursor.rowcount, 0)

    def expire_events(self) -> int:
        """Deletes events older than the age bound; returns how many."""
        cutoff = time.time() - self.event_ttl
        try:
            oldest = self._conn.execute(
                "SELECT entry_date FROM event ORDER BY event_id LIMIT 1"
            ).fetchone()
            if oldest is None or oldest[0] >= cutoff:
                return 0  # the common case costs one indexed lookup
            cursor = self._conn.execute("DELETE FROM event WHERE entry_date < ?", (cutoff,))
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        self.count -= max(cursor.rowcount, 0)
        return max(cursor.rowcount, 0)

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
            cursor = self._conn.execute(
                "INSERT INTO main.event (event_text, level, entry_date) "
                "SELECT event_text, level, entry_date FROM orphan.event ORDER BY event_id"
            )
            moved = max(cursor.rowcount, 0)
            self.count += moved
            dropped = self._trim_to_size()
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._conn.execute("ROLLBACK")
            raise _translate(exc) from exc
        finally:
            self._conn.execute("DETACH DATABASE orphan")
        return moved, dropped

"""The shipping handler: python-logstash-async's `AsynchronousLogstashHandler`, re-assembled.

Same shape as the library (handler -> worker thread -> cache -> transport), with each piece
replaced where it limited speed or durability: the formatter passes through the line the
structlog chain already rendered (JSON is rendered once, with orjson, on the request thread), the
hand-off is the durable journal instead of an in-memory queue, the cache is batched
(`BatchDatabaseCache`), the worker loop is batched (`ShippingWorker`), the transport keeps its
connection (`BatchTcpTransport`). One handler, worker, journal and buffer file per process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from logstash_async.handler import AsynchronousLogstashHandler

from logshipping.shipping.journal import Journal, existing_segments
from logshipping.shipping.recovery import (
    STEM_PREFIX,
    acquire_own_lock,
    database_path,
    lock_path,
)
from logshipping.shipping.transport import BatchTcpTransport, TlsOptions
from logshipping.shipping.worker import ShipperCounts, ShippingWorker


class PassThroughFormatter(logging.Formatter):
    """The record's message is the rendered JSON line already: hand its bytes on unchanged."""

    def format(self, record: logging.LogRecord) -> Any:  # bytes, as the library's handler allows
        if isinstance(record.msg, bytes):
            return record.msg
        return (super().format(record) + "\n").encode()


class ShippingHandler(AsynchronousLogstashHandler):  # type: ignore[misc]
    """Ships rendered JSON lines to a TCP receiver through a persistent, bounded buffer."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        directory: Path,
        max_events: int,
        max_age_s: float,
        max_bytes: int = 2**62,
        batch_size: int,
        poll_interval_s: float,
        retry_max_s: float,
        connect_timeout_s: float,
        tls: TlsOptions | None = None,
        segment_bytes: int,
        journal_max_bytes: int,
        on_dropped: Callable[[int], None],
    ) -> None:
        self.stem = directory / f"{STEM_PREFIX}{os.getpid()}"
        self._lock_fd = acquire_own_lock(self.stem)
        segments = existing_segments(self.stem)
        self._journal = Journal(
            self.stem,
            first_seq=segments[-1][0] + 1 if segments else 0,
            segment_bytes=segment_bytes,
            max_bytes=journal_max_bytes,
        )
        super().__init__(
            host,
            port,
            database_path=str(database_path(self.stem)),
            transport=lambda **_: BatchTcpTransport(host, port, timeout=connect_timeout_s, tls=tls),
            event_ttl=max_age_s,
        )
        self.setFormatter(PassThroughFormatter())
        self._connect_timeout_s = connect_timeout_s
        self._worker = ShippingWorker(
            journal=self._journal,
            transport=self._transport,
            max_events=max_events,
            max_bytes=max_bytes,
            max_age_s=max_age_s,
            batch_size=batch_size,
            poll_interval_s=poll_interval_s,
            retry_max_s=retry_max_s,
            on_dropped=on_dropped,
        )
        self._worker.start()

    def ship(self, line: bytes) -> None:
        """Hot path: hands one rendered line to the journal (no I/O, no network, no raise)."""
        self._journal.append(line)

    def emit(self, record: logging.LogRecord) -> None:
        """For use as a plain logging handler: formats (pass-through) and ships."""
        try:
            self.ship(self.format(record))
        except Exception:  # noqa: BLE001 - a logging handler reports via handleError
            self.handleError(record)

    def counts(self) -> ShipperCounts:
        """Events shipped, buffered and dropped by this process's shipper (`ShipperCounts`)."""
        return self._worker.counts()

    def flush(self) -> None:
        """Nothing to do on the calling thread: the journal is durable once `ship` returns."""

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Flushes for at most `timeout_s` (plus one connect timeout), then stops. Never hangs.

        Returns whether everything was delivered; what was not stays in this process's files
        and the next process to start ships it.
        """
        self._journal.seal()
        self._worker.shutdown_within(timeout_s)
        self._worker.join(timeout_s + self._connect_timeout_s + 1.0)
        if self._worker.is_alive():
            return False  # still busy: leave files and lock to the dying process
        self._close_transport()
        delivered = self._worker.error is None and self._worker.remaining == 0
        self._journal.close()
        if delivered:
            self._delete_files()
        os.close(self._lock_fd)
        return delivered

    def close(self) -> None:
        """logging.Handler API (called by logging.shutdown)."""
        if self._worker.is_alive():
            self.shutdown()
        logging.Handler.close(self)

    def _delete_files(self) -> None:
        db = database_path(self.stem)
        for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            path.unlink(missing_ok=True)
        for _, segment in existing_segments(self.stem):
            segment.unlink(missing_ok=True)
        lock_path(self.stem).unlink(missing_ok=True)

    def abandon_after_fork(self) -> None:
        """In a forked child: forget the parent's journal, thread and lock without touching them."""
        self._journal.abandon()
        os.close(self._lock_fd)

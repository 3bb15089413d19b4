"""The shipper thread: python-logstash-async's `LogProcessingWorker` with a batched loop.

The library's loop takes one event from its in-memory queue, commits it to SQLite, and sleeps
`QUEUE_CHECK_INTERVAL` (2 s) whenever the queue is empty. This subclass keeps the library's
thread, shutdown/flush events and self-logging, and replaces the loop. Every poll interval it
takes all new journal records at once:

- receiver healthy and nothing buffered: sends them in one TCP write. At most once a second, and
  at segment ends, it waits until the receiver acknowledged everything written and saves the
  journal position: the confirmed position. The records were durable in the journal (SQLite would
  only copy them twice more). A lost connection, or a crash, sends the records after the
  confirmed position again, with the same `event.id`, which the pipeline's indexing deduplicates;
- otherwise: stores them in SQLite in one transaction (with the journal position), then sends
  the oldest buffered chunks over one TCP connection and deletes what the receiver acknowledged.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from logstash_async.database import DatabaseDiskIOError, DatabaseLockedError
from logstash_async.worker import LogProcessingWorker

from logshipping.shipping.buffer import BatchDatabaseCache, BufferUnusableError
from logshipping.shipping.journal import Journal, group_by_level
from logshipping.shipping.recovery import adopt_orphans_into, database_path, recover_journal

# Library loggers must never reach the shipping handler (their lines would loop back into it).
SHIPPER_LOGGER_NAME = "logshipping.shipper"
_SEND_BUDGET_S = 0.2  # longest send burst before new journal records are ingested again
_REPORT_INTERVAL_S = 1.0
_CONFIRM_INTERVAL_S = 1.0  # waiting for the ack and a commit per poll cost more than the sending
_MIN_RETRY_WAIT_S = 0.05  # between shutdown cycles that delivered nothing (no busy loop)


@dataclass(frozen=True, slots=True)
class ShipperCounts:
    """What one process's shipper did since start-up (the service exports them as metrics).

    `shipped`: events written to the receiver (one re-sent after a lost connection counts again);
    `buffered`: events waiting in the SQLite buffer now; `dropped`: events lost, by reason
    (`journal_full`: the reader fell too far behind; `buffer_full`: the size bound;
    `expired`: older than the age bound).
    """

    shipped: int
    buffered: int
    dropped: dict[str, int]


DROP_REASONS = ("journal_full", "buffer_full", "expired")


class ShippingWorker(LogProcessingWorker):  # type: ignore[misc]
    """One per process: journal -> SQLite buffer -> TCP receiver."""

    def __init__(
        self,
        *,
        journal: Journal,
        transport: Any,
        max_events: int,
        max_bytes: int,
        max_age_s: float,
        batch_size: int,
        poll_interval_s: float,
        retry_max_s: float,
        on_dropped: Callable[[int], None],
    ) -> None:
        self._stem: Path = journal.stem
        super().__init__(
            host=None,
            port=None,
            transport=transport,
            ssl_enable=False,
            ssl_verify=False,
            ssl_verify_flags=None,
            keyfile=None,
            certfile=None,
            ca_certs=None,
            database_path=str(database_path(self._stem)),
            cache=None,
            event_ttl=max_age_s,
        )
        self.name = "logshipping-worker"
        self._journal = journal
        self._limits = (max_events, max_bytes, max_age_s, batch_size)
        self._poll_interval_s = poll_interval_s
        self._retry_max_s = retry_max_s
        self._retry_delay_s = 0.05
        self._retry_at = 0.0
        self._on_dropped = on_dropped
        self._dropped = 0
        self._journal_dropped_seen = 0
        self._shipped = 0
        self._dropped_by_reason = dict.fromkeys(DROP_REASONS, 0)
        self._next_report = 0.0
        self._position = (0, 0)  # what was read from the journal and sent or buffered
        self._confirmed = (0, 0)  # what the receiver acknowledged (or SQLite holds), saved
        self._confirmed_at = -1e9
        self._deadline = float("inf")
        self._warned_at: dict[str, float] = {}
        self.error: BaseException | None = None
        self.remaining = -1  # events not delivered at shutdown (-1: unknown)

    def enqueue_event(self, event: bytes) -> None:
        """The library's hand-off, here into the durable journal (any thread)."""
        self._journal.append(event)

    def _setup_logger(self) -> None:
        self._logger = logging.getLogger(SHIPPER_LOGGER_NAME)
        self._rate_limit_strategy = None  # our own rate limit: see _warn

    def _setup_database(self) -> None:
        max_events, max_bytes, max_age_s, batch_size = self._limits
        self._database = BatchDatabaseCache(
            database_path(self._stem),
            max_events=max_events,
            max_bytes=max_bytes,
            max_age_s=max_age_s,
            batch_size=batch_size,
        )
        first_seq = self._journal.first_seq
        # Our own files from an earlier process with the same pid (container pid 1).
        self._drop(
            "buffer_full",
            recover_journal(
                self._database, self._stem, self._database.journal_position(), before_seq=first_seq
            ),
        )
        self._position = self._confirmed = (first_seq, 0)
        self._drop("buffer_full", adopt_orphans_into(self._database, self._stem))

    def run(self) -> None:
        """Thread body: set up, loop until shutdown, then drain within the deadline."""
        self._setup_logger()
        try:
            self._setup_database()
            while not self._shutdown_requested():
                self._cycle()
                self._shutdown_event.wait(self._poll_interval_s)
            self._drain()
            self.remaining = self._undelivered()
        except Exception as exc:  # noqa: BLE001 - the thread must report, not die silently
            self.error = exc
            self._log_general_error(exc)
        finally:
            if self._database is not None:
                self._database.close()

    def shutdown_within(self, seconds: float) -> None:
        """Asks the thread to flush what it can for at most `seconds` and stop."""
        self._deadline = time.monotonic() + seconds
        self._retry_at = 0.0  # one more attempt even if we were backing off
        self.shutdown()

    def _drain(self) -> None:
        """Shutdown: cycles until everything is delivered or the deadline passes, retrying a
        receiver that refuses or drops the connection with the usual back-off (it may be coming
        back up while this process stops). Without a deadline (`shutdown_within` not called),
        one cycle."""
        while True:
            self._cycle(final=True)
            now = time.monotonic()
            if not self._undelivered() or now >= self._deadline or math.isinf(self._deadline):
                return
            time.sleep(min(max(self._retry_at - now, _MIN_RETRY_WAIT_S), self._deadline - now))

    def _undelivered(self) -> int:
        """Events buffered in SQLite, plus 1 if the journal holds records beyond the confirmed
        position."""
        return self._database.count + int(self._journal.pending(*self._confirmed))

    def _cycle(self, *, final: bool = False) -> None:
        try:
            self._ingest(final=final)
            self._send(final=final)
            now = time.monotonic()
            if now >= self._next_report or final:
                self._next_report = now + _REPORT_INTERVAL_S
                self._drop("expired", self._database.expire_events())
                self._report_drops()
        except (DatabaseLockedError, DatabaseDiskIOError, BufferUnusableError) as exc:
            self._warn("log buffer unavailable, will retry: %s", exc)
        except Exception as exc:  # noqa: BLE001 - a bug here must not stop shipping for good
            self._warn("log shipper cycle failed, will retry: %s", exc)

    def _ingest(self, *, final: bool) -> None:
        while True:
            seq, offset = self._position
            data, end, sealed = self._journal.read(seq, offset)
            next_seq = self._journal.next_seq(seq) if sealed else None
            if not data and next_seq is None:
                # Nothing new: still confirm what was sent (within the interval even when the
                # service goes quiet), so a write lost just before the silence is sent again.
                self._confirm(now=final)
                return
            position = (next_seq, 0) if next_seq is not None else (seq, end)
            if not data or (self._database.count == 0 and self._send_direct(data)):
                # Sent (or a sealed segment read to its end): confirmed at once at segment ends.
                self._position = position
                if not self._confirm(now=final or next_seq is not None):
                    continue  # rewound to the confirmed position: read again, buffer it
            elif self._position != self._confirmed:
                # Sent but unconfirmed records may be lost: buffer from the confirmed position.
                self._position = self._confirmed
                continue
            else:
                self._drop("buffer_full", self._database.add_chunks(group_by_level(data), position))
                self._position = self._confirmed = position
            if next_seq is None:
                return
            self._journal.release(seq)

    def _confirm(self, *, now: bool) -> bool:
        """Makes the current position the confirmed one, when `now` (a segment ends, shutdown)
        or once per `_CONFIRM_INTERVAL_S`: waits for the receiver's acknowledgement of all that
        was written, then saves the position. If the receiver did not acknowledge, rewinds to the
        confirmed position and returns False."""
        clock = time.monotonic()
        if self._position == self._confirmed or (
            not now and clock < self._confirmed_at + _CONFIRM_INTERVAL_S
        ):
            return True
        try:
            self._transport.wait_acknowledged()
        except OSError as exc:
            self._position = self._confirmed
            self._back_off(exc)
            return False
        self._database.save_position(self._position)
        self._confirmed, self._confirmed_at = self._position, clock
        return True

    def _send_direct(self, data: bytes) -> bool:
        """Healthy receiver and nothing buffered: ship journal records without the SQLite trip.

        They stay durable in the journal until the saved position moves past them; a crash in
        between re-delivers them (same event.id). Returns False if they must be buffered.
        """
        now = time.monotonic()
        if now < self._retry_at or now >= self._deadline:
            return False
        try:
            self._transport.write([data])
        except OSError as exc:
            self._back_off(exc)
            return False
        self._shipped += data.count(b"\n")
        self._retry_delay_s = 0.05
        return True

    def _back_off(self, exc: OSError) -> None:
        self._retry_at = time.monotonic() + self._retry_delay_s
        self._retry_delay_s = min(self._retry_delay_s * 2, self._retry_max_s)
        self._warn("log receiver unavailable, events stay buffered: %s", exc)

    def _send(self, *, final: bool) -> None:
        now = time.monotonic()
        if now < self._retry_at:
            return
        stop = min(self._deadline, now + _SEND_BUDGET_S) if not final else self._deadline
        while self._database.count and time.monotonic() < stop:
            chunks = self._database.get_queued_events()
            if not chunks:
                return
            try:
                self._transport.send(chunks)
            except OSError as exc:
                self._back_off(exc)
                return
            self._database.delete_queued_events()
            self._shipped += sum(chunk.count(b"\n") for chunk in chunks)
            self._retry_delay_s = 0.05

    def counts(self) -> ShipperCounts:
        """Totals since start-up (read from any thread: plain int reads, no lock needed)."""
        dropped = dict(self._dropped_by_reason)
        dropped["journal_full"] = self._journal.dropped
        buffered = self._database.count if self._database is not None else 0
        return ShipperCounts(self._shipped, buffered, dropped)

    def _drop(self, reason: str, count: int) -> None:
        self._dropped += count
        self._dropped_by_reason[reason] += count

    def _report_drops(self) -> None:
        journal_dropped = self._journal.dropped
        self._dropped += journal_dropped - self._journal_dropped_seen
        self._journal_dropped_seen = journal_dropped
        if self._dropped:
            count, self._dropped = self._dropped, 0
            self._on_dropped(count)

    def _warn(self, message: str, exc: BaseException) -> None:
        # At most one warning per failure kind and minute: a dead receiver must not flood stdout.
        key = type(exc).__name__
        now = time.monotonic()
        if now - self._warned_at.get(key, -1e9) >= 60.0:
            self._warned_at[key] = now
            self._logger.warning(message, exc)

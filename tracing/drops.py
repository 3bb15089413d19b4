"""Accounting for spans that never reach Jaeger, reported at most once per interval.

Spans are lost in two places: the bounded queue of the batch processor (the exporter cannot keep
up, e.g. Jaeger is down and every export waits out its timeout) and the export call itself (it
returned failure). Both are counted here. The request thread only ever increments a counter; the
report is written from the export worker thread, so a dead Jaeger never adds log lines or latency
to requests. The exporters' own error lines are rate-limited the same way, so an outage costs one
report and one exporter line per interval, not one per span or per retry.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from logshipping.events import Action, emit

# The exporters' logger (`tracing.otlp`): it logs each failed export, which during an outage is a
# line per batch; the filter below cuts it to one line per interval.
EXPORT_PATH_LOGGERS = ("tracing.otlp",)


@dataclass(frozen=True, slots=True)
class DropTotals:
    """Spans lost since start-up, by cause."""

    queue_full: int
    export_failed: int

    @property
    def total(self) -> int:
        """All spans lost."""
        return self.queue_full + self.export_failed


class DropAccountant:
    """Thread-safe counters of lost spans with a report at most once per `interval_s`."""

    def __init__(
        self,
        interval_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        report: Callable[[DropTotals, int], None] | None = None,
    ) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._report = report or _log_report
        self._lock = threading.Lock()
        self._queue_full = 0
        self._export_failed = 0
        self._reported_total = 0
        self._last_report = -float("inf")

    @property
    def totals(self) -> DropTotals:
        """Counts since start-up."""
        with self._lock:
            return DropTotals(self._queue_full, self._export_failed)

    def queue_full(self, count: int = 1) -> None:
        """Count spans the full queue discarded (called on the request thread: no I/O here)."""
        with self._lock:
            self._queue_full += count

    def export_failed(self, count: int) -> None:
        """Count spans in an export that failed."""
        with self._lock:
            self._export_failed += count

    def maybe_report(self, *, force: bool = False) -> bool:
        """Report new losses unless a report went out less than an interval ago (or `force`).

        Returns whether a report was written.
        """
        with self._lock:
            totals = DropTotals(self._queue_full, self._export_failed)
            new = totals.total - self._reported_total
            now = self._clock()
            if new <= 0 or (not force and now - self._last_report < self._interval_s):
                return False
            self._reported_total = totals.total
            self._last_report = now
        self._report(totals, new)
        return True


def _log_report(totals: DropTotals, new: int) -> None:
    emit(
        Action.SHIPPER_DROPPED,
        f"{new} spans were not delivered to the trace backend",
        {
            "amf1.shipper.dropped_count": new,
            "amf1.shipper.signal": "traces",
            "amf1.tracing.dropped.queue_full": totals.queue_full,
            "amf1.tracing.dropped.export_failed": totals.export_failed,
            "amf1.tracing.dropped.total": totals.total,
        },
    )


class RateLimitFilter(logging.Filter):
    """Lets at most one record through per interval; used on the exporters' logger."""

    def __init__(self, interval_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last = -float("inf")
        self.suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether this record may be logged."""
        now = self._clock()
        with self._lock:
            if now - self._last < self._interval_s:
                self.suppressed += 1
                return False
            self._last = now
            return True

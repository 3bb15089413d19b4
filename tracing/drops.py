"""Accounting for spans that never reach Jaeger, reported at most once per interval.

Spans are lost in two places: the bounded queue of the batch processor (the exporter cannot keep
up, e.g. Jaeger is down and every export waits out its timeout) and the export call itself (it
returned failure). Both are counted here. The request thread only ever increments a counter; the
report is written from the export worker thread, so a dead Jaeger never adds log lines or latency
to requests. The exporters' own error lines are rate-limited the same way, so an outage costs one
report and one exporter line per interval, not one per span or per retry.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from logshipping.events import Action, emit

# Loggers on the export path of the OpenTelemetry SDK and the OTLP exporters: each logs per failed
# export or per retry (and the SDK queue per dropped span), which is a log storm during an outage.
EXPORT_PATH_LOGGERS = (
    "opentelemetry.sdk._shared_internal",
    "opentelemetry.sdk.trace.export",
    "opentelemetry.exporter.otlp.proto.grpc.exporter",
    "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http._common",
)


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


class CountingSpanExporter(SpanExporter):
    """Wraps an exporter: counts the spans of failed exports and triggers the periodic report."""

    def __init__(self, inner: SpanExporter, accountant: DropAccountant) -> None:
        self._inner = inner
        self._accountant = accountant
        self._inner_takes_timeout = "timeout_millis" in inspect.signature(inner.shutdown).parameters

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export through the wrapped exporter; never raises."""
        try:
            result = self._inner.export(spans)
        except Exception:  # noqa: BLE001 - an exporter bug must not kill the export worker
            result = SpanExportResult.FAILURE
        if result is not SpanExportResult.SUCCESS:
            self._accountant.export_failed(len(spans))
        self._accountant.maybe_report()
        return result

    # The batch processor passes its remaining shutdown budget only to a `timeout_millis` argument.
    def shutdown(self, timeout_millis: float = 30_000) -> None:
        """Shut the wrapped exporter down and report any losses not yet reported."""
        try:
            if self._inner_takes_timeout:
                self._inner.shutdown(timeout_millis=timeout_millis)  # type: ignore[call-arg]
            else:
                self._inner.shutdown()
        finally:
            self._accountant.maybe_report(force=True)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Flush the wrapped exporter."""
        return self._inner.force_flush(timeout_millis)


class AccountedBatchSpanProcessor(BatchSpanProcessor):
    """The SDK batch processor, plus counting of queue-full drops and a bounded shutdown."""

    def __init__(
        self,
        exporter: SpanExporter,
        accountant: DropAccountant,
        *,
        max_queue_size: int,
        max_export_batch_size: int,
        schedule_delay_millis: float,
        shutdown_timeout_millis: float,
    ) -> None:
        super().__init__(
            exporter,
            max_queue_size=max_queue_size,
            schedule_delay_millis=schedule_delay_millis,
            max_export_batch_size=max_export_batch_size,
        )
        self._accountant = accountant
        self._max_queue_size = max_queue_size
        self._shutdown_timeout_millis = shutdown_timeout_millis

    def on_end(self, span: ReadableSpan) -> None:
        """Queue a sampled span; count it when the full queue forces one out."""
        # The SDK discards the oldest span silently when its deque is full (its drop count is only
        # visible through opt-in internal metrics), so look at the queue depth before appending.
        if (
            span.context is not None
            and span.context.trace_flags.sampled
            and self.queue_depth() >= self._max_queue_size
        ):
            self._accountant.queue_full()
        super().on_end(span)

    def queue_depth(self) -> int:
        """Spans waiting for export."""
        return len(self._batch_processor._queue)

    def shutdown(self) -> None:
        """Export what is queued within the configured bound, then stop the worker."""
        self._batch_processor.shutdown(timeout_millis=int(self._shutdown_timeout_millis))


class RateLimitFilter(logging.Filter):
    """Lets at most one record through per interval; used on the SDK's export-path loggers."""

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

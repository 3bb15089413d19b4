"""The batch processor: ended spans wait in a bounded queue, one worker thread exports them.

The request thread's whole share of exporting is `on_end`: a length check and a `deque.append`
(atomic under the GIL, so no lock), plus waking the worker once a batch is full. The worker
exports a batch when one is full or `schedule_delay_s` after the last export, whichever comes
first. When the queue is full (the backend is down and exports wait out their timeouts), new spans
are dropped and counted; the `DropAccountant` reports losses at most once per interval, from the
worker, never from a request.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Sequence
from typing import Protocol

from tracing.drops import DropAccountant
from tracing.records import Span


class SpanExporter(Protocol):
    """Delivers batches of ended spans (`tracing.otlp` has the OTLP ones)."""

    def export(self, spans: Sequence[Span]) -> bool:
        """Deliver `spans`; True when the backend accepted them. Must not raise."""

    def shutdown(self) -> None:
        """Release connections; called once, after the last export."""


class BatchProcessor:
    """Queue of ended spans (bounded by `queue_size`) drained in batches by one daemon thread."""

    def __init__(
        self,
        exporter: SpanExporter,
        accountant: DropAccountant,
        *,
        queue_size: int,
        batch_size: int,
        schedule_delay_s: float,
    ) -> None:
        self._exporter = exporter
        self._accountant = accountant
        self._queue: deque[Span] = deque()
        self._queue_size = queue_size
        self._batch_size = batch_size
        self._quiet_below = batch_size - 1  # queue lengths at which on_end need not wake anyone
        self._delay_s = schedule_delay_s
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._flush_requested = 0
        self._flushes_done = 0
        self._stopping = False
        self._worker = threading.Thread(target=self._run, name="amf1-span-export", daemon=True)
        self._worker.start()

    def on_end(self, span: Span) -> None:
        """Queue one ended span, or count it as dropped when the queue is full (request thread:
        never blocks, never logs)."""
        queue = self._queue
        if len(queue) < self._quiet_below:  # the common case: no batch full yet
            queue.append(span)
            return
        if len(queue) >= self._queue_size:
            self._accountant.queue_full()
            return
        queue.append(span)
        if not self._wake.is_set():  # a batch is full: wake the worker
            self._wake.set()

    def queue_depth(self) -> int:
        """Spans waiting for export."""
        return len(self._queue)

    def force_flush(self, timeout_s: float) -> bool:
        """Export everything queued now; False if that did not finish within `timeout_s`."""
        if not self._worker.is_alive():
            return not self._queue
        with self._idle:
            self._flush_requested += 1
            ticket = self._flush_requested
            self._wake.set()
            return self._idle.wait_for(lambda: self._flushes_done >= ticket, timeout_s)

    def shutdown(self, timeout_s: float) -> None:
        """Export what is queued within `timeout_s`, then stop the worker and the exporter.

        Spans the bound leaves behind are counted as failed exports and reported now.
        """
        self._stopping = True
        self._wake.set()
        self._worker.join(timeout_s)
        left = len(self._queue)
        if left:
            self._queue.clear()
            self._accountant.export_failed(left)
        self._accountant.maybe_report(force=True)

    def _run(self) -> None:
        while not self._stopping:
            timed_out = not self._wake.wait(self._delay_s)
            self._wake.clear()
            with self._idle:
                ticket = self._flush_requested
            # Woken by a full batch: send full batches only, the rest waits for the next one (a
            # request per handful of spans would cost more than the spans). After the delay, on
            # a flush or at shutdown: send everything.
            flushing = ticket > self._flushes_done or self._stopping
            self._export_queued(full_batches_only=not (timed_out or flushing))
            with self._idle:
                self._flushes_done = ticket
                self._idle.notify_all()
        self._export_queued(full_batches_only=False)
        with contextlib.suppress(Exception):  # a broken exporter must not break shutdown
            self._exporter.shutdown()

    def _export_queued(self, *, full_batches_only: bool) -> None:
        """Export batches until the queue is empty, or holds less than a batch."""
        queue = self._queue
        size = self._batch_size
        while len(queue) >= size or (queue and not full_batches_only):
            self._export([queue.popleft() for _ in range(min(size, len(queue)))])

    def _export(self, batch: list[Span]) -> None:
        try:
            delivered = self._exporter.export(batch)
        except Exception:  # noqa: BLE001 - an exporter bug must not kill the worker
            delivered = False
        if not delivered:
            self._accountant.export_failed(len(batch))
        self._accountant.maybe_report()

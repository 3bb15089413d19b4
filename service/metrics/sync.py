"""Per-process values copied into the metrics every second: the prediction tally, models loaded,
the log shipper, the span drops and (with several workers) the process's own resources.

These are read from where they are kept (the registry, `logshipping.shipper_counts()`,
`tracing.drop_totals()`) rather than counted again on the hot path: the request thread pays
nothing for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping

from prometheus_client import Counter, Gauge
from prometheus_client.process_collector import ProcessCollector

import logshipping
import tracing
from logshipping.shipping.worker import DROP_REASONS
from service.metrics import definitions as m
from service.metrics.exposition import multiproc_dir
from service.registry import ModelStatus

_log = logging.getLogger(__name__)
# With several workers each one's resources are a series of its own (`pid` label, live workers
# only); a single process has prometheus-client's own ProcessCollector in the default registry.
_PROCESS_GAUGES = {
    name: Gauge(name, help_text, registry=None, multiprocess_mode="liveall")
    for name, help_text in (
        ("process_cpu_seconds_total", "User and system CPU time of the worker, seconds."),
        ("process_resident_memory_bytes", "Resident memory of the worker, bytes."),
        ("process_virtual_memory_bytes", "Virtual memory of the worker, bytes."),
        ("process_open_fds", "Open file descriptors of the worker."),
        ("process_max_fds", "Most open file descriptors of the worker."),
        ("process_start_time_seconds", "Start of the worker, seconds since the epoch."),
    )
}


class _Delta:
    """Adds to a counter what a running total gained since the last call."""

    def __init__(self, counter: Counter) -> None:
        self._counter = counter
        self._seen = 0

    def update(self, total: int) -> None:
        # A smaller total is a new source (a shipper restarted): count it from zero.
        gained = total - self._seen if total >= self._seen else total
        if gained:
            self._counter.inc(gained)
        self._seen = total


class ProcessSync:
    """Copies this process's values into the metrics; `running()` does it every `interval_s`."""

    def __init__(
        self, statuses: Callable[[], Mapping[str, ModelStatus]], interval_s: float = 1.0
    ) -> None:
        self._statuses = statuses
        self._interval_s = interval_s
        self._shipped = _Delta(m.LOG_EVENTS_SHIPPED)
        self._log_drops = {
            reason: _Delta(m.LOG_EVENTS_DROPPED.labels(reason)) for reason in DROP_REASONS
        }
        self._span_drops = {
            reason: _Delta(m.SPANS_DROPPED.labels(reason))
            for reason in ("queue_full", "export_failed")
        }
        self._process = ProcessCollector(registry=None) if multiproc_dir() else None

    def sync(self) -> None:
        """Copy every value now (also called by `GET /metrics` before it answers)."""
        m.TALLY.flush()
        statuses = self._statuses()
        for model in m.MODELS:
            status = statuses.get(model)
            m.MODEL_LOADED.labels(model).set(int(status is not None and status.model is not None))
        counts = logshipping.shipper_counts()
        if counts is not None:
            self._shipped.update(counts.shipped)
            m.LOG_EVENTS_BUFFERED.set(counts.buffered)
            for reason, delta in self._log_drops.items():
                delta.update(counts.dropped.get(reason, 0))
        drops = tracing.drop_totals()
        self._span_drops["queue_full"].update(drops.queue_full)
        self._span_drops["export_failed"].update(drops.export_failed)
        if self._process is not None:
            for family in self._process.collect():
                for sample in family.samples:
                    gauge = _PROCESS_GAUGES.get(sample.name)
                    if gauge is not None:
                        gauge.set(sample.value)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[ProcessSync]:
        """Sync now and every `interval_s` for the duration (the app's lifespan)."""
        self.sync()
        task = asyncio.create_task(self._loop(), name="amf1-metrics-sync")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                self.sync()
            except Exception:  # noqa: BLE001 - metrics never stop the service; next second retries
                _log.exception("metrics sync failed")

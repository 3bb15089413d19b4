"""Drop accounting: lost spans are counted and reported at most once per interval."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Sequence

import pytest
from structlog.testing import capture_logs

import tracing
from tracing.drops import DropAccountant, DropTotals, RateLimitFilter
from tracing.export import SpanExporter
from tracing.records import Span
from tracing.testing import MemoryExporter


class FailingExporter:
    """An exporter whose backend always refuses."""

    def export(self, spans: Sequence[Span]) -> bool:
        return False

    def shutdown(self) -> None:
        pass


class RaisingExporter(FailingExporter):
    """An exporter with a bug."""

    def export(self, spans: Sequence[Span]) -> bool:
        raise RuntimeError("exporter bug")


class BlockedExporter(FailingExporter):
    """An exporter stuck in its first export until released (a backend that hangs)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def export(self, spans: Sequence[Span]) -> bool:
        self.entered.set()
        self.release.wait(10)
        return True


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _make_spans(count: int) -> None:
    for _ in range(count):
        with tracing.tracer().start_as_current_span("work"):
            pass


def _configure(exporter: SpanExporter, **settings: object) -> None:
    assert tracing.configure(
        tracing.Settings(**{"tracing_sampler_ratio": 1.0, **settings}),  # type: ignore[arg-type]
        exporter=exporter,
        set_global=False,
    )


def test_failed_exports_are_counted_and_reported_once() -> None:
    """Three failed exports of 5 spans each -> 15 counted, one report in the interval."""
    with capture_logs() as logs:
        _configure(FailingExporter())
        for _ in range(3):
            _make_spans(5)
            tracing.force_flush()
        assert tracing.drop_totals() == DropTotals(queue_full=0, export_failed=15)
    reports = [e for e in logs if e["event.action"] == "shipper-dropped"]
    assert len(reports) == 1
    assert reports[0]["amf1.shipper.signal"] == "traces"
    assert reports[0]["amf1.shipper.dropped_count"] == 5
    assert reports[0]["log_level"] == "warning"


def test_unreported_drops_are_reported_at_shutdown() -> None:
    """What was lost since the last report is reported when the process stops."""
    with capture_logs() as logs:
        _configure(FailingExporter())
        _make_spans(2)
        tracing.force_flush()
        _make_spans(3)
        tracing.force_flush()
        tracing.shutdown()
    counts = [e["amf1.shipper.dropped_count"] for e in logs if "amf1.shipper.dropped_count" in e]
    assert counts == [2, 3]


def test_exporter_bug_is_counted_not_raised() -> None:
    """An exception inside the exporter counts the spans as failed; nothing propagates."""
    with capture_logs():
        _configure(RaisingExporter())
        _make_spans(4)
        assert tracing.force_flush()
        assert tracing.drop_totals().export_failed == 4


def test_full_queue_drops_are_counted_without_blocking_requests() -> None:
    """A hung backend: the queue holds its bound, the rest is counted as dropped and reported
    (by the export worker, once the backend lets it go)."""
    exporter = BlockedExporter()
    with capture_logs() as logs:
        _configure(exporter, tracing_queue_size=4, tracing_batch_size=1)
        _make_spans(1)
        assert exporter.entered.wait(5), "the worker never started exporting"
        _make_spans(10)
        state = tracing.current()
        assert state is not None
        assert state.processor.queue_depth() == 4
        assert tracing.drop_totals() == DropTotals(queue_full=6, export_failed=0)
        exporter.release.set()
        tracing.shutdown()  # the worker's report lands here, not in a later test's output
    reports = [e for e in logs if e.get("event.action") == "shipper-dropped"]
    assert sum(report["amf1.shipper.dropped_count"] for report in reports) == 6


def test_a_full_batch_is_exported_without_waiting_for_the_schedule_delay() -> None:
    """Busy service: a batch leaves as soon as it is full; a partial one waits for the delay."""
    exporter = MemoryExporter()
    with capture_logs():
        _configure(exporter, tracing_batch_size=4, tracing_schedule_delay_ms=60_000)
        _make_spans(3)
        time.sleep(0.3)
        assert exporter.spans() == [], "a partial batch left before the schedule delay"
        _make_spans(1)
        deadline = time.monotonic() + 5
        while len(exporter.spans()) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(exporter.spans()) == 4, "the full batch waited for the schedule delay"
        tracing.shutdown()


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_unreachable_otlp_endpoint_is_counted_with_rate_limited_logging(
    protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Jaeger not listening: spans counted as failed, the exporter's error line not repeated."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    caplog.set_level(logging.WARNING, logger="tracing.otlp")
    with capture_logs() as logs:
        assert tracing.configure(
            tracing.Settings(
                otlp_protocol=protocol,  # type: ignore[arg-type]
                otlp_endpoint=f"http://127.0.0.1:{port}",
                otlp_http_endpoint=f"http://127.0.0.1:{port}",
                tracing_export_timeout_s=0.5,
                tracing_sampler_ratio=1.0,
            ),
            set_global=False,
        )
        for _ in range(3):
            _make_spans(2)
            tracing.force_flush()
        assert tracing.drop_totals().export_failed == 6
    assert len([e for e in logs if e["event.action"] == "shipper-dropped"]) == 1
    exporter_lines = [r for r in caplog.records if r.name == "tracing.otlp"]
    assert 1 <= len(exporter_lines) <= 2


def test_report_waits_for_the_interval() -> None:
    """Between two reports at least one interval passes; nothing new -> no report."""
    clock = Clock()
    reports: list[tuple[DropTotals, int]] = []
    accountant = DropAccountant(60.0, clock=clock, report=lambda t, n: reports.append((t, n)))
    accountant.queue_full()
    assert accountant.maybe_report()
    accountant.export_failed(3)
    clock.now = 59.0
    assert not accountant.maybe_report()
    clock.now = 60.0
    assert accountant.maybe_report()
    clock.now = 500.0
    assert not accountant.maybe_report()
    assert reports == [(DropTotals(1, 0), 1), (DropTotals(1, 3), 3)]


def test_export_path_log_lines_pass_at_most_once_per_interval() -> None:
    """The SDK's per-retry and per-span warnings are cut to one line per interval."""
    clock = Clock()
    log_filter = RateLimitFilter(60.0, clock=clock)
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "Queue full", None, None)
    passed = [log_filter.filter(record) for _ in range(100)]
    clock.now = 61.0
    passed.append(log_filter.filter(record))
    assert passed.count(True) == 2
    assert log_filter.suppressed == 99


def test_shutdown_is_bounded_and_reports_what_it_left_behind() -> None:
    """A hung backend cannot hold the process at exit: shutdown returns after its bound and the
    spans it could not deliver are reported."""
    exporter = BlockedExporter()
    with capture_logs() as logs:
        _configure(exporter, tracing_batch_size=1, tracing_shutdown_timeout_s=0.5)
        _make_spans(1)
        assert exporter.entered.wait(5), "the worker never started exporting"
        _make_spans(3)
        started = time.monotonic()
        tracing.shutdown()
        elapsed_s = time.monotonic() - started
    exporter.release.set()
    assert elapsed_s < 2.0
    reports = [e for e in logs if e["event.action"] == "shipper-dropped"]
    assert reports[-1]["amf1.tracing.dropped.export_failed"] == 3

"""configure()/shutdown(): resource, sampling, fallbacks, bounded flush."""

from __future__ import annotations

import socket

import pytest
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from structlog.testing import capture_logs

import tracing
from tests.tracing.conftest import MemoryTracing, configure_memory
from tracing import native
from tracing.records import PySpan
from tracing.testing import MemoryExporter


def _remote_parent(sampled: bool) -> trace.Span:
    flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
    context = SpanContext(trace_id=0xABC, span_id=0xDEF, is_remote=True, trace_flags=flags)
    return NonRecordingSpan(context)


def test_spans_carry_service_version_environment_and_host(memory: MemoryTracing) -> None:
    """Jaeger can tell which service, version, environment and host produced a span."""
    state = tracing.current()
    assert state is not None
    resource = state.resource
    assert resource["service.name"] == "amf1-service"
    assert resource["service.version"] == "1.2.3"
    assert resource["deployment.environment.name"] == "development"
    assert resource["host.name"] == socket.gethostname()


def test_service_name_argument_beats_settings() -> None:
    """A process (e.g. the watcher) can name itself."""
    tracing.configure(service_name="amf1-watcher", exporter=MemoryExporter(), set_global=False)
    state = tracing.current()
    assert state is not None
    assert state.resource["service.name"] == "amf1-watcher"


def test_disabled_tracing_records_nothing() -> None:
    """AMF1_TRACING_ENABLED=false -> configure reports False and spans are no-ops."""
    assert not tracing.configure(tracing.Settings(tracing_enabled=False), set_global=False)
    with tracing.tracer().start_as_current_span("work") as span:
        assert not span.is_recording()
    assert tracing.current() is None


def test_broken_settings_log_once_and_fall_back_to_no_tracing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bad environment value never stops the process: one error event, tracing off."""
    monkeypatch.setenv("AMF1_TRACING_SAMPLER_RATIO", "lots")
    with capture_logs() as logs:
        assert not tracing.configure(set_global=False)
    assert [e["event.action"] for e in logs] == ["log"]
    assert logs[0]["log_level"] == "error"
    assert logs[0]["error.type"] == "ValidationError"
    assert not tracing.tracer().start_span("x").is_recording()


def test_without_the_c_build_spans_run_on_the_python_path_and_say_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An install without a C compiler (no `tracing/_hotpath.c` build) still traces, in pure
    Python, and the process says why once when tracing starts."""
    monkeypatch.setattr(native, "AVAILABLE", False)
    with capture_logs() as logs:
        memory = configure_memory()
    assert [(e["log_level"], e["event.action"]) for e in logs] == [("warning", "log")]
    assert "pure-Python path" in logs[0]["event"]
    with tracing.tracer().start_as_current_span("work"):
        pass
    assert type(memory.span("work")) is PySpan


def test_ratio_zero_drops_new_traces_but_honours_a_sampled_parent() -> None:
    """Parent-based sampling: an upstream decision to sample wins over the local ratio; without
    the rules at the end (failed, slow) an unsampled trace is not even recorded."""
    memory = configure_memory(
        tracing_sampler_ratio=0.0, tracing_keep_failed=False, tracing_slow_threshold_s=None
    )
    with tracing.tracer().start_as_current_span("root") as root:
        assert not root.is_recording()
    parent = trace.set_span_in_context(_remote_parent(sampled=True))
    with tracing.tracer().start_as_current_span("child", context=parent) as child:
        assert child.is_recording()
    assert [s.name for s in memory.spans()] == ["child"]
    assert memory.span("child").context.trace_id == 0xABC
    parent_context = memory.span("child").parent
    assert parent_context is not None
    assert parent_context.span_id == 0xDEF


def test_unsampled_parent_is_not_exported_even_at_ratio_one(memory: MemoryTracing) -> None:
    """An upstream decision not to sample is honoured too (for a trace neither failed nor
    slow: the span records until its end decides)."""
    parent = trace.set_span_in_context(_remote_parent(sampled=False))
    with tracing.tracer().start_as_current_span("child", context=parent):
        pass
    assert memory.spans() == []


def test_shutdown_exports_what_is_queued() -> None:
    """Spans still waiting for the next batch reach the exporter at shutdown."""
    exporter = MemoryExporter()
    tracing.configure(
        tracing.Settings(tracing_schedule_delay_ms=600_000, tracing_sampler_ratio=1.0),
        exporter=exporter,
        set_global=False,
    )
    with tracing.tracer().start_as_current_span("last"):
        pass
    tracing.shutdown()
    assert [s.name for s in exporter.spans()] == ["last"]
    assert tracing.current() is None


def test_configure_twice_replaces_the_first_setup() -> None:
    """Reconfiguring shuts the old provider down and exports into the new one."""
    first = configure_memory()
    second = configure_memory()
    with tracing.tracer().start_as_current_span("work"):
        pass
    assert [s.name for s in second.spans()] == ["work"]
    assert first.exporter.spans() == []

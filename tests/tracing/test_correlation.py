"""Log/trace correlation: the structlog processor and the Jaeger links."""

from __future__ import annotations

import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from structlog.testing import capture_logs

import tracing
from tests.tracing.conftest import MemoryTracing
from tracing import correlation
from tracing.settings import Settings


def test_log_event_inside_a_span_carries_its_ids_as_jaeger_shows_them(
    memory: MemoryTracing,
) -> None:
    """trace.id is 32 hex digits and span.id 16, equal to the active span's ids."""
    with tracing.tracer().start_as_current_span("work") as span:
        event = correlation.add_trace_context(None, "info", {"event": "x"})
    context = span.get_span_context()
    assert event["trace.id"] == f"{context.trace_id:032x}"
    assert event["span.id"] == f"{context.span_id:016x}"
    assert event["trace.id"] == memory.span("work").context.trace_id.to_bytes(16).hex()


def test_ids_of_unsampled_and_foreign_spans(memory: MemoryTracing) -> None:
    """An unsampled request's span and a span of another tracer (the SDK's) name their ids too."""
    unsampled = trace.NonRecordingSpan(
        trace.SpanContext(0xAB, 0xCD, is_remote=False, trace_flags=trace.TraceFlags(0))
    )
    sdk_span = SdkTracerProvider().get_tracer("test").start_span("sdk")
    for span in (unsampled, sdk_span):
        with trace.use_span(span):
            event = correlation.add_trace_context(None, "info", {"event": "x"})
        context = span.get_span_context()
        assert event["trace.id"] == f"{context.trace_id:032x}"
        assert event["span.id"] == f"{context.span_id:016x}"


def test_log_event_outside_a_span_is_unchanged(memory: MemoryTracing) -> None:
    """No active span -> no trace fields (never a zero id)."""
    assert correlation.add_trace_context(None, "info", {"event": "x"}) == {"event": "x"}


def test_ids_already_on_the_event_are_kept(memory: MemoryTracing) -> None:
    """An event that names its trace explicitly (e.g. replayed) keeps it."""
    with tracing.tracer().start_as_current_span("work"):
        event = correlation.add_trace_context(None, "info", {"trace.id": "a" * 32})
    assert event["trace.id"] == "a" * 32
    assert "span.id" in event


def test_processor_works_in_a_structlog_chain(memory: MemoryTracing) -> None:
    """As a structlog processor, every event inside a span gets its ids, events outside none."""
    with capture_logs(processors=[correlation.add_trace_context]) as logs:
        with tracing.tracer().start_as_current_span("work"):
            trace_id = correlation.current_trace_id()
            structlog.get_logger().info("inside")
        structlog.get_logger().info("outside")
    assert trace_id is not None
    assert logs[0]["trace.id"] == trace_id
    assert "trace.id" not in logs[1]


def test_current_trace_id_outside_a_span_is_none() -> None:
    """Without tracing there is no trace id to report."""
    assert correlation.current_trace_id() is None


def test_trace_link_points_to_the_jaeger_ui() -> None:
    """Links and the Kibana URL template use the configured Jaeger UI base URL."""
    settings = Settings(jaeger_ui_url="https://jaeger.example/")
    assert correlation.trace_url("ab" * 16, settings) == f"https://jaeger.example/trace/{'ab' * 16}"
    assert correlation.trace_url_template(settings) == "https://jaeger.example/trace/{{value}}"

"""Sampling at the end of the trace: failed and slow traces always kept, others by ratio or
caller, dropped spans never reach the exporter."""

from __future__ import annotations

import gc
from functools import partial

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanContext, SpanKind, StatusCode, TraceFlags

import tracing
from tests.tracing.conftest import configure_memory
from tracing.asgi import ServerSpan, server_spans
from tracing.records import Scope, Span
from tracing.sampling import Sampling
from tracing.tracer import Tracer


class Collect:
    """A sink that keeps the spans handed to it (what would be encoded and exported)."""

    def __init__(self) -> None:
        self.ended: list[Span] = []

    def on_end(self, span: Span) -> None:
        self.ended.append(span)


SECOND_NS = 1_000_000_000
TAIL = Sampling(ratio=0.0, keep_failed=True, slow_threshold_ns=SECOND_NS // 5)


def _trace(
    tracer: Tracer, *, child_error: bool = False, root_error: bool = False, duration_ns: int = 1000
) -> tuple[trace.Span, trace.Span]:
    root = tracer.start_span("GET /x", kind=SpanKind.SERVER)
    with trace.use_span(root):
        child = tracer.start_span("model-inference")
    if child_error:
        child.set_status(StatusCode.ERROR)
    child.end()
    if root_error:
        root.set_status(StatusCode.ERROR)
    assert isinstance(root, Span)
    root.end(root.start_time + duration_ns)
    return root, child


def test_fast_successful_trace_is_recorded_then_dropped_before_export(native: bool) -> None:
    """Every request gets recording spans with valid ids; a fast, successful, unsampled trace
    never reaches the sink."""
    sink = Collect()
    root, child = _trace(Tracer(sink, Scope("t"), TAIL, native=native))
    assert root.get_span_context().is_valid
    assert isinstance(root, Span) and isinstance(child, Span)
    assert not root.kept
    assert sink.ended == []


def test_failed_trace_is_kept_whole(native: bool) -> None:
    """A failed child or root keeps the whole trace, children first, at the root's end."""
    for kwargs in ({"child_error": True}, {"root_error": True}):
        sink = Collect()
        root, child = _trace(Tracer(sink, Scope("t"), TAIL, native=native), **kwargs)  # type: ignore[arg-type]
        assert sink.ended == [child, root]
        assert isinstance(root, Span) and root.kept


def test_slow_trace_is_kept_and_just_faster_is_not(native: bool) -> None:
    """The root's duration against the threshold decides (at or above: kept)."""
    sink = Collect()
    tracer = Tracer(sink, Scope("t"), TAIL, native=native)
    _trace(tracer, duration_ns=SECOND_NS // 5 - 1)
    assert sink.ended == []
    slow, _ = _trace(tracer, duration_ns=SECOND_NS // 5)
    assert [s.name for s in sink.ended] == ["model-inference", "GET /x"]
    assert isinstance(slow, Span) and slow.kept


def test_ratio_keeps_by_trace_id_and_exports_as_spans_end(native: bool) -> None:
    """The head ratio (as `TraceIdRatioBased`) keeps a share; those spans go out as they end."""
    sink = Collect()
    tracer = Tracer(sink, Scope("t"), Sampling(ratio=0.25, keep_failed=True), native=native)
    kept = 0
    for _ in range(2000):
        root = tracer.start_span("r")
        expected = (root.get_span_context().trace_id & ((1 << 64) - 1)) < (1 << 62)
        root.end()
        assert isinstance(root, Span) and root.kept is expected
        kept += expected
    assert len(sink.ended) == kept
    assert 350 < kept < 650


def test_sampled_caller_keeps_and_unsampled_caller_does_not(native: bool) -> None:
    """A remote parent's sampled flag decides the head at any ratio."""
    sink = Collect()
    tracer = Tracer(sink, Scope("t"), TAIL, native=native)
    for sampled in (True, False):
        flags = TraceFlags(TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT)
        remote = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=flags)
        span = tracer.start_span(
            "r", context=trace.set_span_in_context(trace.NonRecordingSpan(remote))
        )
        span.end()
    assert [s.context.trace_id for s in sink.ended] == [0xABC]


def test_span_ending_after_its_root_follows_the_decision(native: bool) -> None:
    """A child that outlives the root is exported when the trace was kept, dropped otherwise."""
    sink = Collect()
    tracer = Tracer(sink, Scope("t"), TAIL, native=native)
    for error in (True, False):
        root = tracer.start_span("r")
        with trace.use_span(root):
            late = tracer.start_span("late")
        if error:
            root.set_status(StatusCode.ERROR)
        root.end()
        late.end()
    assert [s.name for s in sink.ended] == ["r", "late"]


def test_service_settings_drop_fast_traces_and_keep_failed_ones(native: bool) -> None:
    """Through `tracing.configure`: ratio 0 with the default rules exports only the failure."""
    memory = configure_memory(tracing_sampler_ratio=0.0, tracing_native=native)
    with tracing.tracer().start_as_current_span("fine"):
        pass
    with tracing.tracer().start_as_current_span("broken") as span:
        span.set_status(StatusCode.ERROR)
    assert [s.name for s in memory.spans()] == ["broken"]


def test_a_finished_trace_is_freed_without_the_garbage_collector(native: bool) -> None:
    """A dropped trace's spans (and a kept one's, once exported) hold no reference cycle: they
    are freed when the request lets go of them, not left for the collector's passes (a span
    naming itself as its trace's root once made every request leave a cycle behind)."""
    tracer = Tracer(Collect(), Scope("t"), TAIL, native=native)
    gc.collect()
    gc.disable()
    try:
        for _ in range(100):
            _trace(tracer)
        assert gc.collect() < 10
    finally:
        gc.enable()


@pytest.mark.parametrize("made_by", ["server_spans", "ServerSpan"])
def test_the_server_span_answers_the_decision_made_at_its_end(native: bool, made_by: str) -> None:
    """What the access event logs as `amf1.trace.kept` is the decision at the trace's end, not
    the head sampler's, whichever tracer path and server span class made the span."""
    sink = Collect()
    tracer = Tracer(sink, Scope("t"), Sampling(ratio=0.0, slow_threshold_ns=0), native=native)
    scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}
    make = server_spans(tracer) if made_by == "server_spans" else partial(ServerSpan, tracer)
    server_span = make(scope)
    assert not server_span.span.get_span_context().trace_flags.sampled  # the head said no
    assert server_span.end(scope) is True
    assert [span.name for span in sink.ended] == ["GET"]

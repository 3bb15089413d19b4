"""The lean tracer's per-request work in C (`tracing/_hotpath.c`), where it was built.

Per request the tracer starts and ends two spans, makes the server span current and writes its
ids in hex. In Python that is ~57,000 instructions in the running service, most of them the
interpreter's own dispatch and frames (`bench.request_cost`, tracing over the service without
it); in C ~15,500 (bench/README.md has the history and the CPU time it adds). The C module does
the same work: the span record's fields and hot methods (`NativeSpan`), `Tracer.start_owned`
(`starter`), and the starter's methods for the ASGI server span (`server_span`) and the
inference span's block (`span_scope`). What is rare (events, links, status, a caller's
`traceparent`) stays in Python and is called from C; the sampling rules at a trace's end
(`Sampling.keeps`) are read from their fields. Its ids come from a generator of its own
(xoshiro256**, seeded from the OS when loaded and again in every forked worker), not from
`random.getrandbits` as on the pure path: no Python call per id, and the hex forms are written
from the id's bytes.

`uv sync` builds the module (`hatch_build.py`); without a C compiler it is not built,
`AVAILABLE` is False and the tracer runs the same behaviour in pure Python (`PySpan`,
`Tracer.start_owned`, `tracing.asgi.ServerSpan`, `tracing.spans._SpanScope`).
`AMF1_TRACING_NATIVE=false` chooses the pure path; the tracer contract tests run against both.
"""

from __future__ import annotations

from collections.abc import Callable

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode

from tracing.current import CURRENT, SPAN_KEY, caller_span, current_span
from tracing.records import EMPTY_TRACE_STATE, UNSET_STATUS, PySpan, Scope, Span, SpanSink
from tracing.sampling import Sampling

try:
    from tracing import _hotpath  # type: ignore[attr-defined]
except ImportError:  # not built (no C compiler at install): the pure-Python path
    _hotpath = None

# The C module sets the current span through the default context runtime's ContextVar.
AVAILABLE: bool = _hotpath is not None and CURRENT is not None
"""Whether the C hot path was built and can run here."""

if AVAILABLE:

    class NativeSpan(_hotpath.SpanRecord, Span):  # type: ignore[misc]
        """`Span` with its fields and hot methods in C (`tracing._hotpath.SpanRecord`)."""

        __slots__ = ()

    _hotpath.init(
        span_context=SpanContext,
        non_recording_span=NonRecordingSpan,
        context_type=Context,
        invalid_span=trace.INVALID_SPAN,
        sampled=trace.TraceFlags(trace.TraceFlags.SAMPLED),
        not_sampled=trace.TraceFlags(trace.TraceFlags.DEFAULT),
        empty_trace_state=EMPTY_TRACE_STATE,
        unset_status=UNSET_STATUS,
        error_code=StatusCode.ERROR,
        sampling_type=Sampling,
        error_status=Status(StatusCode.ERROR),
        server_kind=SpanKind.SERVER,
        internal_kind=SpanKind.INTERNAL,
        span_key=SPAN_KEY,
        current=CURRENT,
        current_span=current_span,
        extract_parent=caller_span,
        detach=otel_context.detach,
    )
    LEAN_SPANS: tuple[type[Span], ...] = (PySpan, NativeSpan)
else:
    LEAN_SPANS = (PySpan,)
"""The lean span classes here (for `type(span) in LEAN_SPANS`: cheaper than `isinstance`
against the API's abstract class)."""


def starter(sink: SpanSink, scope: Scope, sampling: Sampling) -> Callable[..., trace.Span]:
    """`Tracer.start_owned` in C, for spans of `scope` sampled by `sampling` and ended into
    `sink` (call only when `AVAILABLE`). Its methods make the C twins of the per-request
    wrappers: `server_span(scope)` (`tracing.asgi.ServerSpan`) and `span_scope(name, attributes,
    client_errors, current, record_error)` (`tracing.spans._SpanScope`)."""
    return _hotpath.Starter(NativeSpan, sink, scope, sampling)  # type: ignore[no-any-return]

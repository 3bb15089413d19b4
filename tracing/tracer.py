"""A lean implementation of OpenTelemetry's tracing API: spans as plain records.

Why not the SDK's `TracerProvider`: measured here (opentelemetry-sdk 1.45, Python 3.11), one SDK
span costs ~40 us to start and end (sampler objects, attribute cleaning under a lock, processor
fan-out, a `ReadableSpan` copy at the end) and ~50 us more to encode for OTLP in the export
thread, which shares the service's GIL. At two spans per prediction that is ~180 us on a ~450 us
request: 40 % of the service's requests/s against a goal of 8 %. These spans cost a few us each:
a slotted record, ids from `random.getrandbits` (as the SDK's generator), the parent-based ratio
sampler inlined, and at the end one `deque.append`; `tracing.otlp` encodes them straight into
OTLP protobuf bytes.

Sampling is decided when a trace's local root span ends (`tracing.sampling`): every request gets
recording spans and ids, a kept trace goes to the sink whole, a dropped one never reaches it.

It is the OpenTelemetry *API* that the rest of the code and any instrumentation library talk to
(`trace.get_current_span()`, `trace.use_span()`, `Tracer.start_as_current_span()`, context
propagation): only the implementation behind it is ours. The SDK still provides the `Resource`.
The span record itself is `tracing.records.Span`. Where the C hot path is built (`tracing.native`),
`start_owned` and the span's hot methods run in C, with the same behaviour (its ids from a
generator of its own, seeded from the OS and again in each forked worker).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
)
from opentelemetry.util.types import Attributes, AttributeValue

from tracing import native as native_path
from tracing.current import current_span
from tracing.records import (
    EMPTY_TRACE_STATE,
    UNSET_STATUS,
    PySpan,
    Scope,
    Span,
    SpanSink,
    copy_attributes,
)
from tracing.sampling import Sampling

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT)
_SAMPLED_BIT = TraceFlags.SAMPLED
_LOW_64_BITS = (1 << 64) - 1
_INVALID_SPAN = trace.INVALID_SPAN
# `SpanContext(...)` validates its ids in a Python `__new__` (~1.3 us); ours are valid by
# construction (non-zero, in range), so the tuple is built directly in the API's own layout
# (trace_id, span_id, is_remote, trace_flags, trace_state, is_valid). A test pins the layout.
_tuple_new = tuple.__new__
_alloc = object.__new__


class SpanStarter(Protocol):
    """What the product's own spans are started with: `Tracer` here, `tracing.sdk.SdkTracer`."""

    def start_owned(
        self, name: str, kind: SpanKind, attributes: dict[str, AttributeValue], parent: trace.Span
    ) -> trace.Span:
        """A span under `parent` that owns `attributes`."""


class Tracer(trace.Tracer):
    """Starts spans sampled by `sampling` (`tracing.sampling`; a float: head sampling at that
    ratio): a span of a local parent belongs to its parent's trace and decision; a root follows
    a caller's `traceparent` or the ratio, and, with tail rules, records whatever the head
    decided until its end decides for the trace."""

    def __init__(
        self, sink: SpanSink, scope: Scope, sampling: Sampling | float, *, native: bool = True
    ) -> None:
        self._sink = sink
        self._scope = scope
        if not isinstance(sampling, Sampling):
            sampling = Sampling(ratio=sampling)
        self._sampling = sampling
        self._bound = sampling.bound
        self._tail = sampling.tail
        # `native` and the C hot path built (`tracing.native`): its `start_owned` replaces this
        # class's (same behaviour, in C).
        self.native = native and native_path.AVAILABLE
        if self.native:
            self.start_owned = native_path.starter(  # type: ignore[method-assign]
                sink, scope, sampling
            )

    def start_span(  # noqa: PLR0917 - the API's signature
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace.Span:
        """A recording span, or a non-recording one with valid ids when not sampled (so logs
        and the `X-Trace-Id` header still name the trace)."""
        span = self.start_owned(name, kind, copy_attributes(attributes), current_span(context))
        if isinstance(span, Span):  # a lean span (pure or native)
            if links:
                span.links = tuple(links)
            if start_time is not None:
                span.start_time = start_time
            span._record_exception = record_exception
            span._set_status_on_exception = set_status_on_exception
        return span

    def start_owned(  # noqa: PLR0915 - the whole of a span's making, on the hot path
        self, name: str, kind: SpanKind, attributes: dict[str, AttributeValue], parent: trace.Span
    ) -> trace.Span:
        """`start_span` for the product's own spans on the request path, without the API's
        argument handling: `attributes` (valid values, within the limit) becomes the span's
        own dict, `parent` is the parent span (`INVALID_SPAN` for a root; a `NonRecordingSpan`
        for a caller's context), the span starts now, and used as a context manager it only
        ends itself."""
        getrandbits = random.getrandbits
        sampling = self._sampling
        root: Span | None = None
        if type(parent) is PySpan:  # a local parent: the trace's root decides for the whole trace
            parent_context: SpanContext | None = parent.context
            root = parent._root or parent
            trace_id = parent.context[0]
            sampled = root.kept
            trace_state = parent.context[4]
        elif parent is _INVALID_SPAN:  # a new trace (the server span of most requests)
            trace_id = getrandbits(128) or 1
            sampled = (trace_id & _LOW_64_BITS) < self._bound
            trace_state = EMPTY_TRACE_STATE
            parent_context = None
        else:
            context = parent.get_span_context()
            # Indexed rather than through the properties (a Python call each; layout as above).
            if context[5]:  # is_valid
                trace_id = context[0]
                if sampling.parent_based or not context[2]:  # a local parent is not ours
                    sampled = context[3] & _SAMPLED_BIT != 0
                else:
                    sampled = (trace_id & _LOW_64_BITS) < self._bound
                trace_state = context[4]
                parent_context = context
            else:
                trace_id = getrandbits(128) or 1
                sampled = (trace_id & _LOW_64_BITS) < self._bound
                trace_state = EMPTY_TRACE_STATE
                parent_context = None
        span_context: SpanContext = _tuple_new(
            SpanContext,
            (
                trace_id,
                getrandbits(64) or 1,
                False,
                _SAMPLED if sampled else _NOT_SAMPLED,
                trace_state,
                True,
            ),
        )
        if not sampled and root is None and not self._tail:
            return NonRecordingSpan(span_context)
        # Every field of `PySpan` (which has no `__init__`: a call through the type costs more
        # than these stores); links and the context-manager flags are set by `start_span`.
        span = _alloc(PySpan)
        span.name = name
        span.context = span_context
        span.parent = parent_context
        span.kind = kind
        span.attributes = attributes
        span.events = ()
        span.links = ()
        span.start_time = time.time_ns()
        span.end_time = None
        span.status = UNSET_STATUS
        span.scope = self._scope
        span.kept = sampled
        span._sink = self._sink
        span._root = root
        span._pending = None if root is not None or sampled else []
        span._sampling = sampling
        span._record_exception = False
        span._set_status_on_exception = False
        return span

    @contextmanager
    def start_as_current_span(  # type: ignore[override]  # noqa: PLR0917 - the API's signature
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[trace.Span]:
        """Start a span and make it current for the block (what instrumentation libraries use)."""
        span = self.start_span(
            name, context, kind, attributes, links, start_time, record_exception=False
        )
        with trace.use_span(
            span,
            end_on_exit=end_on_exit,
            record_exception=record_exception,
            set_status_on_exception=set_status_on_exception,
        ) as current:
            yield current


class TracerProvider(trace.TracerProvider):
    """Hands out tracers that share one sink and sampling (for instrumentation libraries
    that ask a provider for their own tracer)."""

    def __init__(self, sink: SpanSink, sampling: Sampling | float, *, native: bool = True) -> None:
        self._sink = sink
        self._sampling = sampling
        self._native = native

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes = None,
    ) -> Tracer:
        """A tracer whose spans name `instrumenting_module_name` as their scope."""
        return Tracer(
            self._sink,
            Scope(instrumenting_module_name, instrumenting_library_version),
            self._sampling,
            native=self._native,
        )

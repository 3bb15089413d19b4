"""The tracer behaves as OpenTelemetry's API promises (what instrumentation relies on).

The contract tests run against both implementations `AMF1_TRACING_IMPLEMENTATION` offers, the
lean tracer (on its C hot path and in pure Python, `AMF1_TRACING_NATIVE`) and the official SDK's;
the tests of the lean tracer's own shortcuts (ids built without the API's constructor, its
context helpers) run against the lean paths alone.
"""

from __future__ import annotations

import contextvars
import json
import os
from typing import Any

import pytest
from opentelemetry import context, trace
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from tests.tracing.conftest import lean_path
from tracing.current import attach_span, current_span, detach
from tracing.records import MAX_ATTRIBUTES, Scope, Span
from tracing.tracer import Tracer, TracerProvider


class Collect:
    """A sink that keeps ended spans."""

    def __init__(self) -> None:
        self.ended: list[Span] = []

    def on_end(self, span: Span) -> None:
        self.ended.append(span)


class Implementation:
    """One tracer implementation with a way to read its ended spans."""

    def __init__(self, name: str, native: bool = False) -> None:
        self.name = name
        self.native = native
        self._sink = Collect()
        self._memory = InMemorySpanExporter()

    def tracer(
        self, ratio: float = 1.0, scope: tuple[str, str | None] = ("amf1-test", "1.0")
    ) -> Any:
        """A tracer sampling `ratio` of new traces (parent-based), spans named by `scope`."""
        if self.name == "lean":
            return TracerProvider(self._sink, ratio, native=self.native).get_tracer(*scope)
        provider = SdkTracerProvider(sampler=ParentBased(TraceIdRatioBased(ratio)))
        provider.add_span_processor(SimpleSpanProcessor(self._memory))
        return provider.get_tracer(*scope)

    def ended(self) -> list[Any]:
        """The spans ended so far, in end order (lean `Span`s or SDK `ReadableSpan`s)."""
        return (
            list(self._sink.ended)
            if self.name == "lean"
            else list(self._memory.get_finished_spans())
        )

    @staticmethod
    def scope(span: Any) -> tuple[str, str | None]:
        """Name and version of the span's instrumentation scope."""
        scope = span.scope if isinstance(span, Span) else span.instrumentation_scope
        return scope.name, scope.version


@pytest.fixture(params=["lean-c", "lean-python", "sdk"])
def impl(request: pytest.FixtureRequest) -> Implementation:
    name: str = request.param
    if name.startswith("lean"):
        return Implementation("lean", native=lean_path(name == "lean-c"))
    return Implementation(name)


@pytest.fixture
def sink() -> Collect:
    return Collect()


@pytest.fixture
def tracer(sink: Collect, native: bool) -> Tracer:
    return Tracer(sink, Scope("amf1-test", "1.0"), 1.0, native=native)


def test_span_context_is_the_apis_own(tracer: Tracer) -> None:
    """Ids are built without the API's constructor: the result must equal what it would build."""
    span = tracer.start_span("work")
    context = span.get_span_context()
    rebuilt = SpanContext(
        context.trace_id,
        context.span_id,
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=context.trace_state,
    )
    assert context == rebuilt
    assert context.is_valid
    assert not context.is_remote
    assert context.trace_flags.sampled
    assert 0 < context.trace_id < 1 << 128
    assert 0 < context.span_id < 1 << 64


def test_current_span_is_the_apis_current_span(tracer: Tracer) -> None:
    """`current_span` answers as `trace.get_current_span`: none, an active span of any kind, an
    explicit context, and a context holding something else than a span under the span key."""
    assert current_span() is trace.get_current_span() is trace.INVALID_SPAN
    unsampled = trace.NonRecordingSpan(tracer.start_span("x").get_span_context())
    for span in (tracer.start_span("work"), unsampled):
        with trace.use_span(span):
            assert current_span() is trace.get_current_span() is span
        explicit = trace.set_span_in_context(span)
        assert current_span(explicit) is trace.get_current_span(explicit) is span
    key = next(iter(trace.set_span_in_context(unsampled)))
    odd = context.set_value(key, "not a span")
    assert current_span(odd) is trace.get_current_span(odd) is trace.INVALID_SPAN


def test_attach_span_is_the_apis_attach(tracer: Tracer) -> None:
    """`attach_span`/`detach` set and restore the API's current context, keeping what else it
    holds, and nest like `context.attach`/`context.detach`."""
    key = context.create_key("amf1-test-key")
    outer_token = context.attach(context.set_value(key, "kept"))
    try:
        first, second = tracer.start_span("first"), tracer.start_span("second")
        token = attach_span(first)
        assert trace.get_current_span() is first
        assert context.get_value(key) == "kept"
        inner = attach_span(second)
        assert trace.get_current_span() is second
        detach(inner)
        assert trace.get_current_span() is first
        detach(token)
        assert trace.get_current_span() is trace.INVALID_SPAN
        assert context.get_value(key) == "kept"
    finally:
        context.detach(outer_token)


def test_detach_of_a_foreign_token_logs_instead_of_raising(
    tracer: Tracer, caplog: pytest.LogCaptureFixture
) -> None:
    """A token made in another context (e.g. another task) cannot be reset here; like the API,
    `detach` logs that and leaves the current context alone."""
    foreign = contextvars.copy_context().run(attach_span, tracer.start_span("elsewhere"))
    detach(foreign)
    assert trace.get_current_span() is trace.INVALID_SPAN
    assert "Failed to detach context" in caplog.text


def test_child_shares_the_trace_and_names_its_parent(impl: Implementation) -> None:
    tracer = impl.tracer()
    with tracer.start_as_current_span("parent") as parent, tracer.start_as_current_span("child"):
        pass
    child, parent_span = impl.ended()
    assert child.context.trace_id == parent.get_span_context().trace_id
    assert child.parent == parent.get_span_context()
    assert parent_span.parent is None
    assert trace.get_current_span() is trace.INVALID_SPAN  # the context was restored


def test_exception_leaving_start_as_current_span_is_recorded(impl: Implementation) -> None:
    tracer = impl.tracer()
    with pytest.raises(KeyError), tracer.start_as_current_span("work", kind=SpanKind.SERVER):
        raise KeyError("driver")
    (span,) = impl.ended()
    assert span.kind is SpanKind.SERVER
    assert span.status.status_code is StatusCode.ERROR
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "KeyError"
    assert "raise KeyError" in str(event.attributes["exception.stacktrace"])


def test_status_rules_ok_is_final_and_unset_never_overrides(impl: Implementation) -> None:
    span = impl.tracer().start_span("work")
    assert span.is_recording()
    span.set_status(StatusCode.ERROR, "boom")
    span.set_status(Status(StatusCode.UNSET))
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "boom"
    span.set_status(StatusCode.OK)
    span.set_status(StatusCode.ERROR)
    assert span.status.status_code is StatusCode.OK


def test_ended_span_is_read_only_and_ends_once(impl: Implementation) -> None:
    span = impl.tracer().start_span("work", attributes={"a": 1, "skip": None})
    span.end()
    span.end()
    span.set_attribute("b", 2)
    span.update_name("renamed")
    span.add_event("late")
    assert len(impl.ended()) == 1
    ended = impl.ended()[0]
    assert ended.name == "work"
    # A None value means "no value" (the SDK keeps the key, its encoder skips it).
    assert {k: v for k, v in ended.attributes.items() if v is not None} == {"a": 1}
    assert tuple(ended.events) == ()
    assert not span.is_recording()
    assert ended.end_time is not None
    assert ended.end_time >= ended.start_time


def test_attributes_are_copied_and_bounded(impl: Implementation) -> None:
    """At most 128 attributes, copied from the caller's dict; replacing a kept key is always
    allowed. (Which ones go beyond the limit differs: the lean tracer drops the newest, the SDK
    the oldest.)"""
    given = {f"k{i}": i for i in range(MAX_ATTRIBUTES + 5)}
    span: Any = impl.tracer().start_span("work", attributes=given)
    given["k10"] = -1
    assert span.attributes["k10"] == 10
    assert len(span.attributes) == MAX_ATTRIBUTES
    span.set_attribute("k20", 100)
    assert span.attributes["k20"] == 100
    assert len(span.attributes) == MAX_ATTRIBUTES


def test_ratio_sampler_agrees_with_the_trace_id(impl: Implementation) -> None:
    """Root spans are kept when the trace id's low 64 bits fall under ratio x 2^64; unsampled
    spans still carry valid ids (for logs and the X-Trace-Id header)."""
    tracer = impl.tracer(0.25)
    spans = [tracer.start_span("work") for _ in range(2000)]
    for span in spans:
        context = span.get_span_context()
        assert context.is_valid
        expected = (context.trace_id & ((1 << 64) - 1)) < (1 << 62)
        assert context.trace_flags.sampled is expected
        assert span.is_recording() is expected
    kept = sum(span.is_recording() for span in spans)
    assert 350 < kept < 650


def _ids(tracer: Any, count: int) -> set[tuple[int, int]]:
    spans = [tracer.start_span("work") for _ in range(count)]
    return {(s.get_span_context().trace_id, s.get_span_context().span_id) for s in spans}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_worker_makes_other_ids_than_its_parent(impl: Implementation) -> None:
    """Pre-fork workers (`AMF1_WORKERS`) share no trace or span id with their parent: one id
    generator state copied into both would merge their requests into the same traces."""
    tracer = impl.tracer()
    _ids(tracer, 3)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: its ids to the parent, then out without pytest's clean-up
        try:
            os.write(write, json.dumps(sorted(_ids(tracer, 50))).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        worker = {tuple(pair) for pair in json.loads(pipe.read())}
    os.waitpid(pid, 0)
    parent = _ids(tracer, 50)
    assert len(worker) == len(parent) == 50
    assert not {t for t, _ in worker} & {t for t, _ in parent}
    assert not {s for _, s in worker} & {s for _, s in parent}


def test_provider_names_the_scope_of_each_tracer(impl: Implementation) -> None:
    tracer = impl.tracer(scope=("opentelemetry.instrumentation.fastapi", "0.66b2"))
    with tracer.start_span("x"):
        pass
    assert impl.scope(impl.ended()[0]) == ("opentelemetry.instrumentation.fastapi", "0.66b2")

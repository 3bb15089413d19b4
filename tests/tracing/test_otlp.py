"""OTLP encoding of lean spans (decoded with the generated classes, compared with the SDK's
encoder) and the gRPC/HTTP exporters against real servers on 127.0.0.1."""

from __future__ import annotations

import http.server
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc  # type: ignore[import-untyped]
import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event as SdkEvent
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import AttributeValue

from tests.ports import free_port
from tracing import otlp
from tracing.otlp import Encoder
from tracing.otlp_export import GrpcExporter, HttpExporter
from tracing.records import Event, Scope, Span
from tracing.testing import MemoryExporter
from tracing.tracer import Tracer

RESOURCE: dict[str, AttributeValue] = {
    "service.name": "amf1-test",
    "process.pid": 4242,
    "host.arch": ["x86", "64"],
}
SCOPE_A = Scope("amf1", "1.2.3")
SCOPE_B = Scope("opentelemetry.instrumentation.fastapi")
REMOTE_PARENT = SpanContext(
    0x0AF7651916CD43DD8448EB211C80319C,
    0xB7AD6B7169203331,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
    trace_state=TraceState([("vendor", "v1"), ("amf1", "x")]),
)
LINKED = SpanContext(0x1234, 0x5678, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
EVERY_TYPE: dict[str, AttributeValue] = {
    "str": "Monza ✓",
    "true": True,
    "false": False,
    "int": 42,
    "zero": 0,
    "negative": -7,
    "int64.min": -(1 << 63),
    "float": 0.25,
    "negative.float": -1.5e300,
    "strings": ["VER", "HAM"],
    "ints": (1, -2),
    "floats": [0.5],
    "bools": [True, False],
    "bytes": b"\x00\xff",
    "nested": {"a": [1, "b"], "c": {"d": None}},
}
TIMEOUT_S = 0.6
BOUND_S = TIMEOUT_S + 1.0


class Collect:
    """A span sink that keeps the ended spans."""

    def __init__(self) -> None:
        self.spans: list[Span] = []

    def on_end(self, span: Span) -> None:
        self.spans.append(span)


def _ended(scope: Scope, name: str, **kwargs: Any) -> Span:
    sink = Collect()
    with Tracer(sink, scope, 1.0).start_span(name, **kwargs):
        pass
    return sink.spans[0]


def _sample_spans() -> list[Span]:
    """Spans of two scopes with every field the encoder writes set at least once."""
    sink = Collect()
    tracer_a = Tracer(sink, SCOPE_A, 1.0)
    with tracer_a.start_as_current_span(
        "POST /predict", kind=SpanKind.SERVER, attributes=EVERY_TYPE, links=[Link(LINKED)]
    ) as root:
        root.add_event("cache miss", {"amf1.key": "stage1", "amf1.size": 3}, timestamp=10**18)
        root.add_link(LINKED, {"amf1.why": "retry of"})
        with tracer_a.start_as_current_span("predict", start_time=5, attributes={"n": 1}) as child:
            child.set_status(StatusCode.OK)
        root.set_status(Status(StatusCode.ERROR, "model missing"))
    remote = trace.set_span_in_context(trace.NonRecordingSpan(REMOTE_PARENT))
    with Tracer(sink, SCOPE_B, 1.0).start_span("GET /health", remote, SpanKind.CLIENT) as span:
        span.set_status(StatusCode.ERROR)
    with tracer_a.start_span("after", kind=SpanKind.CONSUMER):
        pass
    return sink.spans


def _decode(data: bytes) -> ExportTraceServiceRequest:
    request: ExportTraceServiceRequest = ExportTraceServiceRequest.FromString(data)
    return request


def _values(attributes: Sequence[KeyValue]) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in attributes}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return _values(value.kvlist_value.values)
    return getattr(value, kind) if kind else None


def test_encodes_every_field() -> None:
    """Ids, parent, names, kinds, times, attributes of every type, events, links, status,
    trace state and flags decode as written, one ScopeSpans per scope in input order."""
    spans = _sample_spans()
    child, root, _, after = spans
    request = _decode(Encoder(RESOURCE).encode(spans))

    (resource_spans,) = request.resource_spans
    assert _values(resource_spans.resource.attributes) == {
        "service.name": "amf1-test",
        "process.pid": 4242,
        "host.arch": ["x86", "64"],
    }
    scope_a, scope_b = resource_spans.scope_spans
    assert (scope_a.scope.name, scope_a.scope.version) == ("amf1", "1.2.3")
    assert (scope_b.scope.name, scope_b.scope.version) == (SCOPE_B.name, "")
    assert [s.name for s in scope_a.spans] == ["predict", "POST /predict", "after"]
    (pb_health,) = scope_b.spans
    pb_child, pb_root, pb_after = scope_a.spans

    assert pb_root.trace_id == root.context.trace_id.to_bytes(16, "big")
    assert pb_root.span_id == root.context.span_id.to_bytes(8, "big")
    assert pb_root.parent_span_id == b""
    assert pb_child.trace_id == pb_root.trace_id
    assert pb_child.parent_span_id == pb_root.span_id
    assert pb_health.trace_id == REMOTE_PARENT.trace_id.to_bytes(16, "big")
    assert pb_health.parent_span_id == REMOTE_PARENT.span_id.to_bytes(8, "big")
    assert pb_health.trace_state == "vendor=v1,amf1=x"
    assert pb_root.trace_state == ""
    # W3C flags (sampled) in bits 0-7; bit 8: parent remoteness known; bit 9: parent remote.
    assert (pb_root.flags, pb_child.flags, pb_health.flags) == (0x101, 0x101, 0x301)
    assert [p.kind for p in (pb_root, pb_child, pb_health, pb_after)] == [2, 1, 3, 5]
    assert (pb_child.start_time_unix_nano, pb_child.end_time_unix_nano) == (5, child.end_time)
    assert pb_root.start_time_unix_nano == root.start_time
    assert pb_root.end_time_unix_nano == root.end_time

    assert _values(pb_root.attributes) == {
        **EVERY_TYPE,
        "ints": [1, -2],
        "int64.min": -(1 << 63),
    }
    assert _values(pb_child.attributes) == {"n": 1}
    (event,) = pb_root.events
    assert (event.name, event.time_unix_nano) == ("cache miss", 10**18)
    assert _values(event.attributes) == {"amf1.key": "stage1", "amf1.size": 3}
    assert [(link.span_id, _values(link.attributes), link.flags) for link in pb_root.links] == [
        ((0x5678).to_bytes(8, "big"), {}, 0x301),
        ((0x5678).to_bytes(8, "big"), {"amf1.why": "retry of"}, 0x301),
    ]
    assert pb_root.links[0].trace_id == (0x1234).to_bytes(16, "big")
    assert (pb_root.status.code, pb_root.status.message) == (2, "model missing")
    assert (pb_child.status.code, pb_child.status.message) == (1, "")
    assert (pb_health.status.code, pb_health.status.message) == (2, "")
    assert (pb_after.status.code, pb_after.HasField("status")) == (0, True)
    assert after.status.status_code is StatusCode.UNSET


def _sdk_span(span: Span, resource: Resource) -> ReadableSpan:
    """The same span as the SDK's record."""
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=resource,
        attributes=span.attributes,
        events=[SdkEvent(e.name, e.attributes, e.timestamp) for e in span.events],
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=InstrumentationScope(span.scope.name, span.scope.version),
    )


def test_matches_the_sdk_encoder() -> None:
    """The SDK's encoder, given the same spans, produces the same message once two
    differences it has are normalised: it leaves out the W3C trace flags (bits 0-7 of
    Span.flags and Link.flags, which OTLP 1.1 defines and the Java SDK writes) and a link's
    trace_state (a field of Span.Link since OTLP 0.x)."""
    spans = _sample_spans()
    spans[0].links = (Link(REMOTE_PARENT, {"k": "v"}),)  # a link with a trace state
    ours = _decode(Encoder(RESOURCE).encode(spans))
    sdk = encode_spans([_sdk_span(s, Resource(RESOURCE)) for s in spans])

    for scope_spans in ours.resource_spans[0].scope_spans:
        for pb_span in scope_spans.spans:
            assert pb_span.flags & 0xFF == TraceFlags.SAMPLED
            pb_span.flags &= ~0xFF
            for link in pb_span.links:
                assert link.flags & 0xFF == TraceFlags.SAMPLED
                link.flags &= ~0xFF
                link.trace_state = ""
    assert ours == sdk


def test_values_outside_otlp_become_strings() -> None:
    """Unknown types, ints beyond int64 and unencodable text do not raise: strings instead."""

    class Odd:
        def __str__(self) -> str:
            return "odd"

    span = _ended(SCOPE_A, "x")
    span.attributes = {"odd": Odd(), "huge": 1 << 64, "bad": "\ud800"}  # type: ignore[dict-item]
    request = _decode(Encoder({}).encode([span]))

    (pb_span,) = request.resource_spans[0].scope_spans[0].spans
    assert _values(pb_span.attributes) == {
        "odd": "odd",
        "huge": str(1 << 64),
        "bad": "?",
    }


def test_values_past_the_cache_bounds_still_encode() -> None:
    """Many distinct values of one key (beyond the per-key cache) all decode correctly."""
    encoder = Encoder({})
    spans = [
        _ended(SCOPE_A, "x", attributes={"url.path": f"/p/{i}", "ok": i % 2 == 0})
        for i in range(100)
    ]
    for _ in range(2):
        request = _decode(encoder.encode(spans))
        decoded = [_values(s.attributes) for s in request.resource_spans[0].scope_spans[0].spans]
        assert decoded == [{"url.path": f"/p/{i}", "ok": i % 2 == 0} for i in range(100)]


def test_cached_attributes_encode_as_uncached() -> None:
    """Attributes served from the caches (second batch) give the same bytes as a fresh encoder,
    also where span, event and link attributes share keys and values, and bool and int values
    that compare equal (True == 1) keep their own types."""
    attributes: dict[str, AttributeValue] = {
        "http.response.status_code": 200,
        "flag": True,
        "one": 1,
        "amf1.driver": "VER",
        "amf1.features.duration_us": 300,
        "lap_time_s": 80.123,
    }
    swapped = {"flag": 1, "one": True}
    spans = [_ended(SCOPE_A, "a", attributes=attributes, links=[Link(LINKED, attributes)])]
    spans[0].events = (Event("e", 1, attributes),)
    spans.append(_ended(SCOPE_A, "b", attributes={**attributes, **swapped}))
    encoder = Encoder(RESOURCE)
    first = encoder.encode(spans)
    assert encoder.encode(spans) == first == Encoder(RESOURCE).encode(spans)

    pb_a, pb_b = _decode(first).resource_spans[0].scope_spans[0].spans
    assert _values(pb_a.attributes) == attributes
    assert _values(pb_a.events[0].attributes) == attributes
    assert _values(pb_a.links[0].attributes) == attributes
    assert _values(pb_b.attributes) == {**attributes, **swapped}
    assert [type(v) for v in _values(pb_b.attributes).values()][1:3] == [int, bool]


def test_attribute_caches_stay_bounded() -> None:
    """However many keys and values pass, the caches keep at most their bounds (per field tag:
    keys, and string/bool and int values per key)."""
    encoder = Encoder({})
    many_values = [
        _ended(SCOPE_A, "x", attributes={"k": f"v{i}", "n": i, "b": i % 2 == 0})
        for i in range(3 * otlp._VALUES_PER_KEY)
    ]
    many_keys = [_ended(SCOPE_A, "y", attributes={f"k{i}": i}) for i in range(otlp._KEYS + 10)]
    encoder.encode(many_values + many_keys)

    keys = encoder._keys[b"\x4a"]
    assert len(keys) == otlp._KEYS
    _, strings_and_bools, ints = keys["k"]
    assert (len(strings_and_bools), ints) == (otlp._VALUES_PER_KEY, {})
    assert len(keys["n"][2]) == otlp._VALUES_PER_KEY
    assert len(keys["b"][1]) == 2
    assert not encoder._keys[b"\x1a"]


def test_span_lengths_past_the_table_encode() -> None:
    """Spans longer than the precomputed length prefixes decode too."""
    span = _ended(SCOPE_A, "long", attributes={"text": "x" * 5000, "short": "y"})
    (pb_span,) = _decode(Encoder({}).encode([span])).resource_spans[0].scope_spans[0].spans
    assert _values(pb_span.attributes) == {"text": "x" * 5000, "short": "y"}


def test_no_spans_encode_to_nothing() -> None:
    """An empty batch is an empty request (nothing to send)."""
    assert Encoder(RESOURCE).encode([]) == b""


def test_broken_span_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    """A span that cannot be encoded (never ended) is logged and the rest of the batch kept."""
    good = _ended(SCOPE_A, "good")
    broken = _ended(SCOPE_A, "broken")
    broken.end_time = None
    with caplog.at_level(logging.WARNING, logger="tracing.otlp"):
        request = _decode(Encoder({}).encode([broken, good]))
    assert [s.name for s in request.resource_spans[0].scope_spans[0].spans] == ["good"]
    assert "broken" in caplog.text


# --- exporters against real servers on 127.0.0.1 ----------------------------------------------


@dataclass
class Backend:
    """What a test server answers and what it received."""

    failures: list[Any] = field(default_factory=list)  # answered in turn before success
    response: bytes = b""
    attempts: int = 0
    requests: list[ExportTraceServiceRequest] = field(default_factory=list)
    peers: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_failure(self) -> Any:
        with self.lock:
            self.attempts += 1
            return self.failures.pop(0) if self.failures else None

    def received(self, data: bytes, peer: Any) -> None:
        with self.lock:
            self.requests.append(ExportTraceServiceRequest.FromString(data))
            self.peers.append(peer)


def _spans() -> list[Span]:
    return [_ended(SCOPE_A, "one"), _ended(SCOPE_A, "two")]


@pytest.fixture
def grpc_backend() -> Iterator[tuple[Backend, str]]:
    """A TraceService on 127.0.0.1 that fails with the queued status codes, then accepts."""
    backend = Backend()

    def export(data: bytes, context: Any) -> bytes:
        code = backend.next_failure()
        if code is not None:
            context.abort(code, "test failure")
        backend.received(data, context.peer())
        return backend.response

    handler = grpc.method_handlers_generic_handler(
        "opentelemetry.proto.collector.trace.v1.TraceService",
        {"Export": grpc.unary_unary_rpc_method_handler(export)},
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield backend, f"127.0.0.1:{port}"
    server.stop(grace=None)


@pytest.mark.parametrize("scheme", ["", "http://"])
def test_grpc_delivers_after_retryable_failures(
    grpc_backend: tuple[Backend, str], scheme: str
) -> None:
    """UNAVAILABLE then RESOURCE_EXHAUSTED are retried; the third attempt delivers the spans."""
    backend, address = grpc_backend
    backend.failures = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED]
    exporter = GrpcExporter(scheme + address, 5.0, Encoder(RESOURCE))
    try:
        assert exporter.export(_spans())
    finally:
        exporter.shutdown()
    assert backend.attempts == 3
    (request,) = backend.requests
    assert [s.name for s in request.resource_spans[0].scope_spans[0].spans] == ["one", "two"]


def test_grpc_gives_up_within_the_timeout(
    grpc_backend: tuple[Backend, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A collector that stays UNAVAILABLE: False within the timeout, one warning with why."""
    backend, address = grpc_backend
    backend.failures = [grpc.StatusCode.UNAVAILABLE] * 100
    exporter = GrpcExporter(address, TIMEOUT_S, Encoder(RESOURCE))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="tracing.otlp"):
        assert not exporter.export(_spans())
    assert time.monotonic() - started < BOUND_S
    exporter.shutdown()
    assert backend.attempts > 1
    (record,) = caplog.records
    assert "UNAVAILABLE" in record.getMessage()


def test_grpc_does_not_retry_a_refusal(
    grpc_backend: tuple[Backend, str], caplog: pytest.LogCaptureFixture
) -> None:
    """INVALID_ARGUMENT is final: one attempt, False, one warning."""
    backend, address = grpc_backend
    backend.failures = [grpc.StatusCode.INVALID_ARGUMENT]
    exporter = GrpcExporter(address, 5.0, Encoder(RESOURCE))
    with caplog.at_level(logging.WARNING, logger="tracing.otlp"):
        assert not exporter.export(_spans())
    exporter.shutdown()
    assert backend.attempts == 1
    assert len(caplog.records) == 1


def test_grpc_logs_rejected_spans(
    grpc_backend: tuple[Backend, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A partial success counts as delivered, and the rejection is logged."""
    backend, address = grpc_backend
    partial = ExportTracePartialSuccess(rejected_spans=1, error_message="span too old")
    backend.response = ExportTraceServiceResponse(partial_success=partial).SerializeToString()
    exporter = GrpcExporter(address, 5.0, Encoder(RESOURCE))
    with caplog.at_level(logging.WARNING, logger="tracing.otlp"):
        assert exporter.export(_spans())
    exporter.shutdown()
    assert "rejected 1 spans: span too old" in caplog.text


@pytest.mark.parametrize(
    "make", [GrpcExporter, lambda url, *a: HttpExporter(f"http://{url}/v1/traces", *a)]
)
def test_unreachable_collector_fails_within_the_timeout(
    make: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens on the port: False within the timeout bound, one warning."""
    exporter = make(f"127.0.0.1:{free_port()}", TIMEOUT_S, Encoder(RESOURCE))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="tracing.otlp"):
        assert not exporter.export(_spans())
    assert time.monotonic() - started < BOUND_S
    exporter.shutdown()
    assert len(caplog.records) == 1


def test_export_after_shutdown_fails() -> None:
    """A shut-down exporter refuses without trying."""
    exporter = GrpcExporter(f"127.0.0.1:{free_port()}", 5.0, Encoder(RESOURCE))
    exporter.shutdown()
    started = time.monotonic()
    assert not exporter.export(_spans())
    assert time.monotonic() - started < 0.5


@pytest.fixture
def http_backend() -> Iterator[tuple[Backend, str]]:
    """An OTLP/HTTP receiver on 127.0.0.1 answering the queued (status, headers), then 200."""
    backend = Backend()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            failure = backend.next_failure()
            if failure is None:
                assert self.path == "/v1/traces"
                assert self.headers["Content-Type"] == "application/x-protobuf"
                backend.received(body, self.client_address)
                status, headers, reply = 200, {}, backend.response
            else:
                (status, headers), reply = failure, b"try later"
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(reply))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield backend, f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    server.shutdown()
    server.server_close()


def test_http_delivers_after_retries_on_one_connection(http_backend: tuple[Backend, str]) -> None:
    """503 and 502 are retried; the spans arrive; later exports reuse the connection."""
    backend, url = http_backend
    backend.failures = [(503, {}), (502, {})]
    exporter = HttpExporter(url, 5.0, Encoder(RESOURCE))
    try:
        assert exporter.export(_spans())
        assert exporter.export(_spans())
    finally:
        exporter.shutdown()
    assert backend.attempts == 4
    first, _ = backend.requests
    assert [s.name for s in first.resource_spans[0].scope_spans[0].spans] == ["one", "two"]
    assert backend.peers[0] == backend.peers[1]


def test_http_honours_retry_after(http_backend: tuple[Backend, str]) -> None:
    """429 with Retry-After: 1 waits about a second before the next attempt."""
    backend, url = http_backend
    backend.failures = [(429, {"Retry-After": "1"})]
    exporter = HttpExporter(url, 5.0, Encoder(RESOURCE))
    started = time.monotonic()
    assert exporter.export(_spans())
    assert 0.9 < time.monotonic() - started < 2.0
    exporter.shutdown()


def test_http_gives_up_when_retry_after_exceeds_the_timeout(
    http_backend: tuple[Backend, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A Retry-After beyond the time left ends the export at once: False, one warning."""
    backend, url = http_backend
    backend.failures = [(503, {"Retry-After": "30"})]
    exporter = HttpExporter(url, 2.0, Encoder(RESOURCE))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="tracing.otlp"):
        assert not exporter.export(_spans())
    assert time.monotonic() - started < 0.5
    exporter.shutdown()
    (record,) = caplog.records
    assert "HTTP 503" in record.getMessage()


def test_http_gives_up_within_the_timeout(
    http_backend: tuple[Backend, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A receiver that keeps answering 503: False within the timeout bound, one warning."""
    backend, url = http_backend
    backend.failures = [(503, {})] * 100
    exporter = HttpExporter(url, TIMEOUT_S, Encoder(RESOURCE))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="tracing.otlp"):
        assert not exporter.export(_spans())
    assert time.monotonic() - started < BOUND_S
    exporter.shutdown()
    assert backend.attempts > 1
    assert len(caplog.records) == 1


def test_http_does_not_retry_a_bad_request(
    http_backend: tuple[Backend, str], caplog: pytest.LogCaptureFixture
) -> None:
    """400 is final: one attempt, False, one warning naming the status."""
    backend, url = http_backend
    backend.failures = [(400, {})]
    exporter = HttpExporter(url, 5.0, Encoder(RESOURCE))
    with caplog.at_level(logging.WARNING, logger="tracing.otlp"):
        assert not exporter.export(_spans())
    exporter.shutdown()
    assert backend.attempts == 1
    (record,) = caplog.records
    assert "HTTP 400" in record.getMessage()


def test_memory_exporter_keeps_spans_until_cleared() -> None:
    """Exported spans are kept in order; clear() forgets them; after shutdown exports fail."""
    exporter = MemoryExporter()
    spans = _spans()
    assert exporter.export(spans[:1])
    assert exporter.export(spans[1:])
    assert exporter.spans() == spans
    exporter.clear()
    assert exporter.spans() == []
    exporter.shutdown()
    assert not exporter.export(spans)

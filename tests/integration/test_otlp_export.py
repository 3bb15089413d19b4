"""`tracing.otlp` against the real Jaeger: what each exporter sends is found by the query API."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from tests.integration.tracing_support import find_spans, spans_of_trace, wait_for
from tests.stack_fixtures import StackEndpoints
from tracing.otlp import Encoder
from tracing.otlp_export import GrpcExporter, HttpExporter
from tracing.records import Scope, Span
from tracing.tracer import Tracer

pytestmark = pytest.mark.integration


class _Collect:
    def __init__(self) -> None:
        self.spans: list[Span] = []

    def on_end(self, span: Span) -> None:
        self.spans.append(span)


def _grpc(stack: StackEndpoints, encoder: Encoder) -> GrpcExporter | HttpExporter:
    return GrpcExporter(stack.otlp_grpc_endpoint, 10.0, encoder)


def _http(stack: StackEndpoints, encoder: Encoder) -> GrpcExporter | HttpExporter:
    return HttpExporter(f"{stack.otlp_http_endpoint}/v1/traces", 10.0, encoder)


@pytest.mark.parametrize("make", [_grpc, _http], ids=["grpc", "http"])
def test_exported_trace_is_found_in_jaeger(
    stack: StackEndpoints, make: Callable[[StackEndpoints, Encoder], GrpcExporter | HttpExporter]
) -> None:
    """A server span with a child, attributes, an event and an error status arrive intact."""
    service = f"amf1-otlp-itest-{uuid.uuid4().hex[:8]}"
    started = datetime.now(UTC)
    sink = _Collect()
    tracer = Tracer(sink, Scope("amf1.itest", "0.1"), 1.0)
    with tracer.start_as_current_span("POST /predict", kind=SpanKind.SERVER) as root:
        root.set_attributes({"http.response.status_code": 500, "amf1.ratio": 0.5})
        with tracer.start_as_current_span("predict", attributes={"amf1.driver": "VER"}) as child:
            child.add_event("model missing", {"amf1.model": "stage2"})
            child.set_status(StatusCode.ERROR, "no model")
    exporter = make(stack, Encoder({"service.name": service}))
    try:
        assert exporter.export(sink.spans)
    finally:
        exporter.shutdown()

    trace_id = f"{root.get_span_context().trace_id:032x}"
    found = wait_for(
        lambda: spans_of_trace(find_spans(stack.jaeger_query_url, service, started), trace_id),
        "the exported trace in Jaeger",
        timeout_s=20,
    )
    assert set(found) == {"POST /predict", "predict"}
    server, predict = found["POST /predict"], found["predict"]
    assert predict.parent_span_id == server.span_id
    assert server.kind == 2
    assert server.resource["service.name"] == service
    assert server.attributes["http.response.status_code"] in (500, "500")
    assert predict.attributes["amf1.driver"] == "VER"
    assert predict.status_code == 2
    assert predict.events == [{"name": "model missing", "amf1.model": "stage2"}]

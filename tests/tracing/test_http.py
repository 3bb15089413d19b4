"""FastAPI instrumentation: server span, trace header, W3C traceparent, errors.

Every test runs with each server-span implementation: `lean` (the default) on its C hot path and
in pure Python, and `contrib`.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from opentelemetry.trace import SpanKind, StatusCode

import tracing
from tests.tracing.conftest import MemoryTracing, configure_memory, lean_path
from tracing import spans

TRACEPARENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT_SPAN_ID = "00f067aa0ba902b7"


class ModelMissingError(Exception):
    """Stands in for a service error that an exception handler answers with 503."""


@pytest.fixture(params=["lean-c", "lean-python", "contrib"])
def mode(request: pytest.FixtureRequest) -> str:
    """Which server-span implementation the test configures."""
    value: str = request.param
    return value


def _configure(mode: str, **settings: Any) -> MemoryTracing:
    """Tracing with the `mode` instrumentation and an in-memory exporter."""
    if mode == "contrib":
        return configure_memory(tracing_http_instrumentation=mode, **settings)
    native = lean_path(mode == "lean-c")
    return configure_memory(tracing_http_instrumentation="lean", tracing_native=native, **settings)


@pytest.fixture
def memory(mode: str) -> MemoryTracing:
    """Tracing with the `mode` instrumentation and an in-memory exporter."""
    return _configure(mode)


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/predict/qualifying")
    def predict() -> dict[str, float]:
        with spans.inference_span("stage1-qualifying", "1", driver="VER", circuit="monza"):
            return {"lap_time_s": 80.1}

    @app.get("/drivers/{driver}")
    def driver(driver: str) -> dict[str, str]:
        return {"driver": driver}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("unexpected")

    @app.get("/missing")
    def missing() -> None:
        raise ModelMissingError("stage1-qualifying not loaded")

    @app.exception_handler(ModelMissingError)
    def _missing(_request: object, exc: Exception) -> JSONResponse:
        spans.record_error(exc)
        return JSONResponse({"detail": str(exc)}, status_code=503)

    tracing.instrument_app(app)
    return app


def test_prediction_has_a_server_span_and_one_inference_span(memory: MemoryTracing) -> None:
    """Two spans per prediction: no per-message receive/send spans."""
    response = TestClient(_app()).post("/predict/qualifying")
    assert response.status_code == 200
    recorded = memory.spans()
    assert sorted(s.name for s in recorded) == ["POST /predict/qualifying", "model-inference"]
    server = memory.span("POST /predict/qualifying")
    inference = memory.span("model-inference")
    assert server.kind is SpanKind.SERVER
    assert inference.parent is not None
    assert inference.parent.span_id == server.context.span_id


def test_server_span_is_named_after_the_route_template(memory: MemoryTracing) -> None:
    """`GET /drivers/{driver}`, not one operation per driver: the operation list stays short."""
    TestClient(_app()).get("/drivers/VER")
    server = memory.span("GET /drivers/{driver}")
    attributes = server.attributes or {}
    assert attributes.get("http.route") == "/drivers/{driver}"


def test_response_header_carries_the_trace_id(memory: MemoryTracing) -> None:
    """A client can report X-Trace-Id; it is the trace Jaeger shows for the request."""
    response = TestClient(_app()).post("/predict/qualifying")
    server = memory.span("POST /predict/qualifying")
    assert response.headers[tracing.TRACE_ID_HEADER] == f"{server.context.trace_id:032x}"


def test_incoming_traceparent_continues_the_callers_trace(memory: MemoryTracing) -> None:
    """A W3C traceparent makes the request part of the caller's trace."""
    traceparent = f"00-{TRACEPARENT_TRACE_ID}-{TRACEPARENT_SPAN_ID}-01"
    response = TestClient(_app()).post("/predict/qualifying", headers={"traceparent": traceparent})
    assert response.headers[tracing.TRACE_ID_HEADER] == TRACEPARENT_TRACE_ID
    server = memory.span("POST /predict/qualifying")
    assert server.parent is not None
    assert f"{server.parent.span_id:016x}" == TRACEPARENT_SPAN_ID


def test_sampled_traceparent_is_recorded_even_when_local_sampling_is_off(mode: str) -> None:
    """Parent-based sampling through HTTP: the caller's sampled flag wins over ratio 0."""
    memory = _configure(mode, tracing_sampler_ratio=0.0)
    client = TestClient(_app())
    client.post("/predict/qualifying")
    assert memory.spans() == []
    traceparent = f"00-{TRACEPARENT_TRACE_ID}-{TRACEPARENT_SPAN_ID}-01"
    client.post("/predict/qualifying", headers={"traceparent": traceparent})
    assert len(memory.spans()) == 2


def test_unsampled_request_still_answers_with_its_trace_id(mode: str) -> None:
    """Even a trace not kept has an id the client and the logs can quote."""
    _configure(mode, tracing_sampler_ratio=0.0)
    response = TestClient(_app()).post("/predict/qualifying")
    assert len(response.headers[tracing.TRACE_ID_HEADER]) == 32


def test_unhandled_error_is_recorded_and_still_answers_with_the_trace_id(
    memory: MemoryTracing,
) -> None:
    """A 500 from an unexpected exception: header present, span failed with the exception."""
    response = TestClient(_app(), raise_server_exceptions=False).get("/boom")
    assert response.status_code == 500
    server = memory.span("GET /boom")
    assert response.headers[tracing.TRACE_ID_HEADER] == f"{server.context.trace_id:032x}"
    assert server.status.status_code is StatusCode.ERROR
    assert "exception" in [e.name for e in server.events]


def test_handled_error_is_recorded_on_the_server_span(memory: MemoryTracing) -> None:
    """An exception handler's 503 keeps the error on the trace via record_error."""
    response = TestClient(_app()).get("/missing")
    assert response.status_code == 503
    server = memory.span("GET /missing")
    assert server.status.status_code is StatusCode.ERROR
    exception = next(e for e in server.events if e.name == "exception")
    assert (exception.attributes or {})["exception.message"] == "stage1-qualifying not loaded"


def test_without_tracing_the_app_is_left_alone() -> None:
    """instrument_app does nothing when tracing is off: no header, no middleware."""
    app = FastAPI()
    assert not tracing.instrument_app(app)
    assert tracing.TRACE_ID_HEADER not in TestClient(app).get("/docs").headers

"""The service's traces: two spans per prediction, the trace id on every answer and in the access
event, errors on the trace, client errors not, and the test-only delay; with the lean tracer and
with the official SDK (`AMF1_TRACING_IMPLEMENTATION`); which traces the defaults keep."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import ValidationError
from structlog.testing import capture_logs

import tracing
from service.features import STAGE1_NAME
from service.metadata import MODEL_FILE
from service.model_store import model_directory
from service.monitoring.drift import DriftConfig
from service.monitoring.freshness import FreshnessConfig
from service.monitoring.hub import MonitoringConfig, MonitoringHub
from service.predict_flow import TEST_DELAY_HEADER
from service.registry import ModelRegistry
from service.settings import Settings
from tests.service.conftest import make_client, qualifying_body, race_body
from tests.service.monitoring import synthetic
from tracing.correlation import add_trace_context
from tracing.records import Span
from tracing.testing import MemoryExporter


@pytest.fixture(params=["lean", "sdk"])
def exporter(request: pytest.FixtureRequest) -> Iterator[MemoryExporter]:
    """Tracing configured for this process, exporting every trace into memory."""
    memory = MemoryExporter()
    settings = tracing.Settings(tracing_sampler_ratio=1.0, tracing_implementation=request.param)
    assert tracing.configure(settings, exporter=memory, set_global=False)
    yield memory
    tracing.shutdown()


def _spans(exporter: MemoryExporter) -> dict[str, Span]:
    tracing.force_flush()
    return {span.name: span for span in exporter.spans()}


def test_prediction_is_one_server_span_and_one_inference_span(
    models_dir: Path, exporter: MemoryExporter
) -> None:
    """The trace of a prediction: the request, and the model call with model, driver, circuit."""
    with make_client(models_dir) as client:
        response = client.post("/predict/qualifying", json=qualifying_body())
    assert response.status_code == 200
    spans = _spans(exporter)
    assert set(spans) == {"POST /predict/qualifying", "model-inference"}
    server, inference = spans["POST /predict/qualifying"], spans["model-inference"]
    assert server.kind is SpanKind.SERVER
    assert inference.parent is not None
    assert inference.parent.span_id == server.context.span_id
    attributes = inference.attributes or {}
    assert attributes["amf1.model.name"] == STAGE1_NAME
    assert attributes["amf1.model.version"] == response.json()["model"]["version"]
    assert attributes["amf1.driver"] == "varga"
    assert attributes["amf1.circuit"] == "monza"
    assert attributes["amf1.features.duration_us"] >= 0
    assert response.headers["x-trace-id"] == f"{server.context.trace_id:032x}"


def test_race_winner_inference_span_records_the_field(
    models_dir: Path, exporter: MemoryExporter
) -> None:
    """A race-winner trace names the circuit and the size of the field."""
    with make_client(models_dir) as client:
        assert client.post("/predict/race-winner", json=race_body()).status_code == 200
    attributes = _spans(exporter)["model-inference"].attributes or {}
    assert attributes["amf1.field_size"] == 5
    assert attributes["amf1.circuit"] == "monza"


def test_access_event_carries_the_trace_id_of_the_response_header(
    models_dir: Path, exporter: MemoryExporter
) -> None:
    """From a log line to its trace: the access event's trace.id is the header's trace id."""
    with make_client(models_dir) as client, capture_logs(processors=[add_trace_context]) as logs:
        response = client.post("/predict/qualifying", json=qualifying_body())
    access = [e for e in logs if e.get("event.action") == "prediction-succeeded"]
    assert len(access) == 1
    assert access[0]["trace.id"] == response.headers["x-trace-id"]
    assert access[0]["amf1.trace.kept"] is True
    server = _spans(exporter)["POST /predict/qualifying"]
    assert access[0]["span.id"] == f"{server.context.span_id:016x}"


def test_unknown_driver_is_not_an_error_on_the_trace(
    models_dir: Path, exporter: MemoryExporter
) -> None:
    """A 422 is the client's mistake: neither span is marked failed."""
    with make_client(models_dir) as client:
        response = client.post("/predict/qualifying", json=qualifying_body(driver="nobody"))
    assert response.status_code == 422
    assert "x-trace-id" in response.headers
    for span in _spans(exporter).values():
        assert span.status.status_code is not StatusCode.ERROR, span.name


def test_unavailable_model_puts_the_error_on_the_trace(
    models_dir: Path, exporter: MemoryExporter
) -> None:
    """A 503 prediction failure: server span ERROR with the exception that explains it."""
    (model_directory(models_dir, STAGE1_NAME) / MODEL_FILE).unlink()
    with make_client(models_dir) as client:
        response = client.post("/predict/qualifying", json=qualifying_body())
    assert response.status_code == 503
    server = _spans(exporter)["POST /predict/qualifying"]
    assert server.status.status_code is StatusCode.ERROR
    exception = next(e for e in server.events if e.name == "exception")
    assert str((exception.attributes or {})["exception.type"]).endswith("ModelUnavailableError")
    assert response.headers["x-trace-id"] == f"{server.context.trace_id:032x}"


def test_crash_answer_carries_the_trace_id_and_the_error_is_on_the_trace(
    models_dir: Path, exporter: MemoryExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected exception: the JSON 500 names its trace, the server span holds the error,
    and the access event carries the same trace id."""

    def explode(self: ModelRegistry, name: str) -> None:
        raise RuntimeError("booster exploded")

    with make_client(models_dir) as client:
        monkeypatch.setattr(ModelRegistry, "get", explode)
        with capture_logs(processors=[add_trace_context]) as logs:
            response = client.post("/predict/qualifying", json=qualifying_body())
    assert response.status_code == 500
    server = _spans(exporter)["POST /predict/qualifying"]
    assert server.status.status_code is StatusCode.ERROR
    assert server.attributes["http.response.status_code"] == 500
    exception = next(e for e in server.events if e.name == "exception")
    assert exception.attributes["exception.message"] == "booster exploded"
    trace_id = f"{server.context.trace_id:032x}"
    assert response.headers["x-trace-id"] == trace_id
    assert [event["trace.id"] for event in logs] == [trace_id]


def _inference_ns(exporter: MemoryExporter) -> int:
    inference = _spans(exporter)["model-inference"]
    assert inference.end_time is not None and inference.start_time is not None
    return inference.end_time - inference.start_time


def test_test_delay_header_slows_a_prediction_when_enabled(
    models_dir: Path, exporter: MemoryExporter
) -> None:
    """AMF1_TEST_DELAY_ENABLED: a prediction asking for 150 ms lasts at least that long."""
    with make_client(models_dir, test_delay_enabled=True) as client:
        client.post(
            "/predict/qualifying", json=qualifying_body(), headers={TEST_DELAY_HEADER: "150"}
        )
    assert _inference_ns(exporter) >= 150_000_000


def test_test_delay_header_is_ignored_by_default(
    models_dir: Path, exporter: MemoryExporter
) -> None:
    """Without the setting the header does nothing (the hook is off by default)."""
    with make_client(models_dir) as client:
        client.post(
            "/predict/qualifying", json=qualifying_body(), headers={TEST_DELAY_HEADER: "5000"}
        )
    assert _inference_ns(exporter) < 5_000_000_000


def test_test_delay_is_refused_in_production() -> None:
    """The delay hook cannot be switched on where real users are."""
    with pytest.raises(ValidationError, match="AMF1_TEST_DELAY_ENABLED"):
        Settings(environment="production", test_delay_enabled=True)


def test_app_factory_alone_exports_nothing(models_dir: Path) -> None:
    """Without `tracing.configure()` in the process, the app is not instrumented."""
    with make_client(models_dir) as client:
        response = client.post("/predict/qualifying", json=qualifying_body())
    assert response.status_code == 200
    assert "x-trace-id" not in response.headers


def test_periodic_drift_report_is_its_own_trace(exporter: MemoryExporter) -> None:
    """A drift-counts report (every K requests, outside any request) is a `drift-update` span."""
    config = MonitoringConfig(
        drift=DriftConfig(),
        freshness=FreshnessConfig(interval_s=300.0),
        tick_interval_s=1.0,
    )
    hub = MonitoringHub(config, clock=lambda: 1_000.0, wall_clock=lambda: datetime.now(UTC))
    hub.register_model(STAGE1_NAME, "7", synthetic.training_reference(), None)
    for row in synthetic.rows(synthetic.sample_columns(np.random.default_rng(3), 1_000)):
        hub.observe(STAGE1_NAME, row)
    with capture_logs():
        hub.tick()
    span = _spans(exporter)["drift-update"]
    assert span.parent is None
    attributes = span.attributes or {}
    assert attributes["amf1.model.name"] == STAGE1_NAME
    assert attributes["amf1.model.version"] == "7"
    assert attributes["amf1.drift.window_size"] == 1_000


def test_defaults_keep_failed_and_slow_predictions_and_say_so_in_the_log(
    models_dir: Path,
) -> None:
    """Ratio 0 with the default rules: a fast success is not exported, a prediction slower than
    the threshold and a 503 are (all their spans); every access event has `trace.id` and says
    whether the trace was kept."""
    memory = MemoryExporter()
    settings = tracing.Settings(tracing_sampler_ratio=0.0, tracing_slow_threshold_s=0.05)
    assert tracing.configure(settings, exporter=memory, set_global=False)
    try:
        # The app's lifespan exit shuts tracing down (flushing into memory): one block.
        with capture_logs() as logs, make_client(models_dir, test_delay_enabled=True) as client:
            fast = client.post("/predict/qualifying", json=qualifying_body())
            delay = {TEST_DELAY_HEADER: "80"}
            slow = client.post("/predict/qualifying", json=qualifying_body(), headers=delay)
            (model_directory(models_dir, STAGE1_NAME) / MODEL_FILE).unlink()
            with make_client(models_dir) as unloaded:
                failed = unloaded.post("/predict/qualifying", json=qualifying_body())
        assert (fast.status_code, slow.status_code, failed.status_code) == (200, 200, 503)
        kept = {f"{s.context.trace_id:032x}" for s in memory.spans()}
        ids = {name: r.headers["x-trace-id"] for name, r in (("fast", fast), ("slow", slow))}
        ids["failed"] = failed.headers["x-trace-id"]
        assert kept == {ids["slow"], ids["failed"]}
        assert len([s for s in memory.spans() if s.name == "model-inference"]) == 1
        access = {e["trace.id"]: e["amf1.trace.kept"] for e in logs if "amf1.trace.kept" in e}
        assert access == {ids["fast"]: False, ids["slow"]: True, ids["failed"]: True}
    finally:
        tracing.shutdown()

"""The product's spans: inference, feature event, drift update, error recording."""

from __future__ import annotations

import pytest
from opentelemetry.trace import StatusCode

import tracing
from tests.tracing.conftest import MemoryTracing
from tracing import spans


def test_inference_span_names_model_driver_and_circuit(memory: MemoryTracing) -> None:
    """The inference span answers which model (and version) predicted for whom, where."""
    with spans.inference_span("stage1-qualifying", "20261127", driver="VER", circuit="monza"):
        pass
    attributes = memory.span("model-inference").attributes
    assert attributes == {
        "amf1.model.name": "stage1-qualifying",
        "amf1.model.version": "20261127",
        "amf1.driver": "VER",
        "amf1.circuit": "monza",
    }


def test_race_winner_inference_records_the_field_size(memory: MemoryTracing) -> None:
    """A race-winner prediction has no single driver, but a field size."""
    with spans.inference_span("stage2-race-winner", "1", circuit="spa", field_size=20):
        pass
    attributes = memory.span("model-inference").attributes
    assert attributes is not None
    assert attributes["amf1.field_size"] == 20
    assert "amf1.driver" not in attributes


def test_feature_building_is_recorded_on_the_inference_span(memory: MemoryTracing) -> None:
    """Feature building shows as duration and missing-input attributes, not as its own span."""
    with spans.inference_span("stage1-qualifying", "1") as span:
        spans.features_built(span, 12_345, missing=1)
    recorded = memory.spans()
    assert [s.name for s in recorded] == ["model-inference"]
    attributes = recorded[0].attributes or {}
    assert attributes["amf1.features.duration_us"] == 12
    assert attributes["amf1.features.missing"] == 1


def test_exception_in_inference_marks_the_span_failed(memory: MemoryTracing) -> None:
    """An error escaping the model call is on the span: status ERROR and an exception event."""
    with (
        pytest.raises(ValueError, match="bad input"),
        spans.inference_span("stage1-qualifying", "1"),
    ):
        raise ValueError("bad input")
    span = memory.span("model-inference")
    assert span.status.status_code is StatusCode.ERROR
    assert span.events[0].name == "exception"
    assert (span.events[0].attributes or {})["exception.type"] == "ValueError"


def test_record_error_marks_a_handled_failure(memory: MemoryTracing) -> None:
    """A failure turned into a 5xx answer (not raised) is still visible on the active span."""
    with tracing.tracer().start_as_current_span("POST /predict/qualifying"):
        spans.record_error(RuntimeError("model not loaded"))
    span = memory.span("POST /predict/qualifying")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "RuntimeError: model not loaded"
    assert [e.name for e in span.events] == ["exception"]


def test_drift_update_has_its_own_span(memory: MemoryTracing) -> None:
    """A drift update (every K requests) is a span with the model and the window size."""
    with spans.drift_span("stage1-qualifying", "1", window_size=500):
        pass
    attributes = memory.span("drift-update").attributes
    assert attributes is not None
    assert attributes["amf1.drift.window_size"] == 500


def test_helpers_are_harmless_without_tracing() -> None:
    """With tracing off the helpers cost nothing and raise nothing."""
    with spans.inference_span("stage1-qualifying", "1") as span:
        spans.features_built(span, 1)
        spans.record_error(RuntimeError("x"))
    assert not span.is_recording()


def test_client_error_in_inference_does_not_mark_the_span_failed(memory: MemoryTracing) -> None:
    """An unknown driver (a 4xx) ends the span normally: only service failures are errors."""
    with (
        pytest.raises(LookupError),
        spans.inference_span("stage1-qualifying", "1", client_errors=(LookupError,)),
    ):
        raise KeyError("nobody")
    span = memory.span("model-inference")
    assert span.status.status_code is StatusCode.UNSET
    assert span.events == ()


def test_failed_drift_update_is_recorded(memory: MemoryTracing) -> None:
    """A drift computation that raises leaves a failed span behind."""
    with (
        pytest.raises(ZeroDivisionError),
        spans.drift_span("stage1-qualifying", "1", window_size=1),
    ):
        _ = 1 / 0
    assert memory.span("drift-update").status.status_code is StatusCode.ERROR

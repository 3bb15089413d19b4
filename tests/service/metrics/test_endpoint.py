"""`GET /metrics` in one process: the guide's names and labels, moved by each prediction."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.features import STAGE1_NAME, STAGE2_NAME
from service.metadata import MODEL_FILE
from service.model_store import model_directory
from tests.service.conftest import make_client, qualifying_body, race_body


def _samples(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_each_prediction_counts_once_by_model_and_status(client: TestClient) -> None:
    """A success, a client error (422) and a model-level success of the other model move exactly
    their own series; latency is observed for the answered predictions, not for the rejected."""
    before = _samples(client)
    assert client.post("/predict/qualifying", json=qualifying_body()).status_code == 200
    assert (
        client.post("/predict/qualifying", json=qualifying_body(driver="nobody")).status_code == 422
    )
    assert client.post("/predict/race-winner", json=race_body()).status_code == 200
    after = _samples(client)

    def gained(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    total = "amf1_predictions_total"
    assert gained(total, model=STAGE1_NAME, status="success") == 1
    assert gained(total, model=STAGE1_NAME, status="rejected") == 1
    assert gained(total, model=STAGE1_NAME, status="error") == 0
    assert gained(total, model=STAGE2_NAME, status="success") == 1
    count = "amf1_prediction_latency_seconds_count"
    assert gained(count, model=STAGE1_NAME) == 1
    assert gained(count, model=STAGE2_NAME) == 1
    assert gained("amf1_prediction_latency_seconds_sum", model=STAGE1_NAME) > 0
    assert _value(after, "amf1_model_loaded", model=STAGE1_NAME) == 1
    assert _value(after, "amf1_model_loaded", model=STAGE2_NAME) == 1


def test_a_model_that_failed_to_load_reads_0_and_its_requests_are_errors(models_dir: Path) -> None:
    """A missing model file: amf1_model_loaded 0 for that model only; its 503s count as errors."""
    (model_directory(models_dir, STAGE2_NAME) / MODEL_FILE).unlink()
    with make_client(models_dir) as client:
        before = _samples(client)
        assert client.post("/predict/race-winner", json=race_body()).status_code == 503
        after = _samples(client)
    assert _value(after, "amf1_model_loaded", model=STAGE2_NAME) == 0
    assert _value(after, "amf1_model_loaded", model=STAGE1_NAME) == 1
    series = (
        "amf1_predictions_total",
        frozenset({"model": STAGE2_NAME, "status": "error"}.items()),
    )
    assert after[series] - before.get(series, 0.0) == 1


def test_every_metric_family_is_exposed(client: TestClient) -> None:
    """The guide's service metrics, the shipper's and the spans' counters, process metrics."""
    names = {family.name for family in text_string_to_metric_families(client.get("/metrics").text)}
    expected = {
        "amf1_predictions",
        "amf1_prediction_latency_seconds",
        "amf1_model_loaded",
        "amf1_log_events_shipped",
        "amf1_log_events_buffered",
        "amf1_log_events_dropped",
        "amf1_spans_dropped",
        "process_resident_memory_bytes",
    }
    assert expected <= names, expected - names

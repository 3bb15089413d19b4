"""Traces in the real Jaeger, linked to the real log pipeline, from a real `amf1 serve` process.

One service process serves the module (stage-2's model deliberately missing, so a failed
prediction is one request away); the Jaeger-outage test runs its own process, last, because
stopping the native Jaeger empties its in-memory store.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from elasticsearch import Elasticsearch

from service.features import STAGE1_NAME, STAGE2_NAME
from service.predict_flow import TEST_DELAY_HEADER
from service.training.dataset import validate_dataset
from service.training.synthetic import generate
from service.training.train import train_all
from tests.integration.tracing_support import (
    Served,
    find_spans,
    serve,
    spans_of_trace,
    wait_for,
)
from tests.stack_fixtures import ServiceSwitch, StackEndpoints

pytestmark = pytest.mark.integration

SERVER_KIND = 2
STATUS_ERROR = 2
QUALIFYING = "POST /predict/qualifying"
RACE_WINNER = "POST /predict/race-winner"


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both models trained on a small synthetic table (stage-2 removed later where needed)."""
    out = tmp_path_factory.mktemp("models")
    table = validate_dataset(generate(seasons=3, seed=5), source="test")
    train_all(table, out, seed=5, source="test")
    return out


def _env(stack: StackEndpoints, buffer_dir: Path, **extra: str) -> dict[str, str]:
    """A service of its own name (so Jaeger queries see only this test's traces)."""
    return {
        "AMF1_SERVICE_NAME": f"amf1-itest-{uuid.uuid4().hex[:8]}",
        "AMF1_ENVIRONMENT": "test",
        "AMF1_OTLP_HTTP_ENDPOINT": stack.otlp_http_endpoint,
        "AMF1_OTLP_PROTOCOL": "http",
        "AMF1_JAEGER_QUERY_URL": stack.jaeger_query_url,
        "AMF1_TRACING_SCHEDULE_DELAY_MS": "200",
        "AMF1_LOGSTASH_HOST": stack.log_tcp_host,
        "AMF1_LOGSTASH_PORT": str(stack.log_tcp_port),
        "AMF1_LOG_BUFFER_DIR": str(buffer_dir),
        "AMF1_TEST_DELAY_ENABLED": "true",
        "AMF1_LOG_LEVEL": "info",
        **extra,
    }


@pytest.fixture(scope="module")
def served(
    stack: StackEndpoints, models_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """`amf1 serve` with a healthy stage-1 model and no stage-2 model."""
    work = tmp_path_factory.mktemp("served")
    degraded = work / "models"
    shutil.copytree(models_dir, degraded)
    shutil.rmtree(degraded / STAGE2_NAME)
    with serve(work, degraded, _env(stack, work / "buffer")) as process:
        yield process


_BODIES: dict[str, dict[str, Any]] = {}


def _qualifying(served: Served, **headers: str) -> httpx.Response:
    """One valid qualifying prediction (driver and circuit asked once per service process)."""
    body = _BODIES.get(served.url)
    if body is None:
        listing = httpx.get(f"{served.url}/drivers", timeout=10).json()["by_model"]
        circuits = httpx.get(f"{served.url}/circuits", timeout=10).json()["by_model"]
        body = _BODIES[served.url] = {
            "driver": listing[STAGE1_NAME][0],
            "circuit": circuits[STAGE1_NAME][0],
            "air_temp_c": 24.0,
            "track_temp_c": 38.5,
            "humidity_pct": 55.0,
            "rain_probability": 0.05,
            "practice_best_lap_s": 80.4,
        }
    response = httpx.post(
        f"{served.url}/predict/qualifying", json=body, headers=headers, timeout=15
    )
    assert response.status_code == 200, response.text
    return response


def test_prediction_trace_is_found_by_service_and_operation(
    stack: StackEndpoints, served: Served
) -> None:
    """A prediction whose caller's `traceparent` says sampled is kept whatever the ratio: its
    trace (the caller's id, in the response header) is in Jaeger with both spans."""
    started = datetime.now(UTC)
    caller_trace = uuid.uuid4().hex
    response = _qualifying(served, traceparent=f"00-{caller_trace}-{'1' * 16}-01")
    trace_id = response.headers["x-trace-id"]
    assert trace_id == caller_trace

    def trace() -> dict[str, Any] | None:
        spans = find_spans(stack.jaeger_query_url, served.service_name, started, QUALIFYING)
        found = spans_of_trace(spans, trace_id)
        return found if found and "model-inference" in found else None

    spans = wait_for(trace, f"trace {trace_id} in Jaeger")
    server, inference = spans[QUALIFYING], spans["model-inference"]
    assert server.kind == SERVER_KIND
    assert inference.parent_span_id == server.span_id
    assert server.resource["service.name"] == served.service_name
    assert server.resource["deployment.environment.name"] == "test"
    assert inference.attributes["amf1.model.name"] == STAGE1_NAME
    assert inference.attributes["amf1.model.version"] == response.json()["model"]["version"]
    assert inference.attributes["amf1.driver"] == response.json()["driver"]
    assert inference.attributes["amf1.circuit"] == response.json()["circuit"]
    assert "amf1.features.duration_us" in inference.attributes


def test_slow_prediction_is_found_by_minimum_duration(
    stack: StackEndpoints, served: Served
) -> None:
    """Among fast predictions, a 400 ms one is what a `duration >= 300 ms` search returns (kept
    by the default sampling: slower than the latency alert's level)."""
    started = datetime.now(UTC)
    fast = {_qualifying(served).headers["x-trace-id"] for _ in range(3)}
    slow = _qualifying(served, **{TEST_DELAY_HEADER: "400"}).headers["x-trace-id"]

    def slow_traces() -> set[str] | None:
        spans = find_spans(
            stack.jaeger_query_url, served.service_name, started, QUALIFYING, duration_min_ms=300
        )
        found = {span.trace_id for span in spans}
        return found if slow in found else None

    found = wait_for(slow_traces, f"slow trace {slow} in Jaeger")
    assert not found & fast


def test_failed_prediction_trace_carries_the_error(stack: StackEndpoints, served: Served) -> None:
    """A 503 (model not loaded): kept by the default sampling; the server span is an error with
    the exception that says why."""
    started = datetime.now(UTC)
    drivers = httpx.get(f"{served.url}/drivers", timeout=10).json()["drivers"][:5]
    entries = [
        {"driver": d, "grid_position": i + 1, "qualifying_lap_s": 79.8 + 0.15 * i}
        for i, d in enumerate(drivers)
    ]
    body = {"circuit": "monza", "rain_probability": 0.1, "entries": entries}
    response = httpx.post(f"{served.url}/predict/race-winner", json=body, timeout=15)
    assert response.status_code == 503, response.text
    trace_id = response.headers["x-trace-id"]

    def trace() -> dict[str, Any] | None:
        spans = find_spans(stack.jaeger_query_url, served.service_name, started, RACE_WINNER)
        return spans_of_trace(spans, trace_id)

    server = wait_for(trace, f"failed trace {trace_id} in Jaeger")[RACE_WINNER]
    assert server.status_code == STATUS_ERROR
    exceptions = [e for e in server.events if e["name"] == "exception"]
    assert exceptions
    assert str(exceptions[0]["exception.type"]).endswith("ModelUnavailableError")


def test_header_trace_id_equals_trace_id_of_the_indexed_log_event(
    served: Served, es: Elasticsearch
) -> None:
    """Through the shipper, the collector and Elasticsearch: the access event of a prediction
    carries the trace id its response reported (log line -> trace, and back)."""
    response = _qualifying(served)
    prediction_id = response.json()["prediction_id"]

    def indexed() -> list[dict[str, Any]] | None:
        result = es.search(
            index="amf1-logs-*",
            query={"term": {"amf1.prediction.id": prediction_id}},
            size=10,
        )
        hits = [hit["_source"] for hit in result["hits"]["hits"]]
        return hits or None

    events = wait_for(indexed, f"log event of prediction {prediction_id} in Elasticsearch", 90)
    assert [e["event.action"] for e in events] == ["prediction-succeeded"]
    assert events[0]["trace.id"] == response.headers["x-trace-id"]
    assert len(events[0]["span.id"]) == 16


def test_jaeger_down_service_answers_and_drops_are_counted_without_a_log_storm(
    stack: StackEndpoints,
    stack_control: ServiceSwitch,
    models_dir: Path,
    tmp_path: Path,
) -> None:
    """Jaeger stopped: every prediction still answers; lost spans are reported a few times,
    never once per span; the exporter's error lines are rate-limited too."""
    env = _env(
        stack,
        tmp_path / "buffer",
        AMF1_TRACING_QUEUE_SIZE="64",
        AMF1_TRACING_BATCH_SIZE="32",
        AMF1_TRACING_EXPORT_TIMEOUT_S="1",
        AMF1_TRACING_DROP_LOG_INTERVAL_S="2",
        AMF1_TRACING_SAMPLER_RATIO="1.0",
        AMF1_LOG_SHIP="false",
    )
    with serve(tmp_path, models_dir, env) as process:
        _qualifying(process)
        stack_control.stop("jaeger")
        outage_started = time.monotonic()
        statuses = [_qualifying(process).status_code for _ in range(150)]
        while time.monotonic() - outage_started < 6:
            statuses.append(_qualifying(process).status_code)
        outage_s = time.monotonic() - outage_started
        stack_control.start("jaeger")
    assert set(statuses) == {200}
    events = process.events()
    reports = [
        e
        for e in events
        if e.get("event.action") == "shipper-dropped" and e.get("amf1.shipper.signal") == "traces"
    ]
    assert reports, "no dropped-spans report during the outage"
    dropped = max(e["amf1.tracing.dropped.total"] for e in reports)
    assert dropped >= 100
    # At most one report per 2 s interval (+ the one at shutdown), whatever was dropped.
    assert len(reports) <= outage_s / 2 + 3
    exporter_lines = [e for e in events if str(e.get("log.logger", "")).startswith("opentelemetry")]
    assert len(exporter_lines) <= 6 * (outage_s / 2 + 3)

"""Feedback across workers: `amf1 serve --workers 3`, logs through the real collector.

Every feedback is accepted whichever worker receives it, and once the events are indexed the
watcher's performance signal gives the MAE and Brier computed offline from the same pairs.
Forged feedback (no token, or a wrong one) is refused and moves neither.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from elasticsearch import Elasticsearch
from structlog.testing import capture_logs

from alerting.signals.outcomes import PerformanceConfig
from alerting.signals.performance import PerformanceSignal
from service.features import STAGE1_NAME, STAGE2_NAME
from service.training.dataset import validate_dataset
from service.training.synthetic import generate
from service.training.train import train_all
from tests.integration import tracing_support
from tests.integration.pipeline_support import count_when_answering
from tests.integration.tracing_support import Served, serve
from tests.stack_fixtures import StackEndpoints

pytestmark = pytest.mark.integration

PAIRS = 30
INDEXED_WITHIN_S = 90.0
STARTUP_S = 180.0
FEEDBACK_TOKEN = secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both models trained on a small synthetic table."""
    out = tmp_path_factory.mktemp("models")
    train_all(
        validate_dataset(generate(seasons=3, seed=5), source="test"), out, seed=5, source="test"
    )
    return out


@pytest.fixture
def served(
    stack: StackEndpoints, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Served]:
    """`amf1 serve` with three workers, shipping to the stack's collector."""
    # Three workers loading both models on a shared two-core machine: slower to answer.
    monkeypatch.setattr(tracing_support, "WAIT_S", STARTUP_S)
    env = {
        "AMF1_SERVICE_NAME": f"amf1-itest-{uuid.uuid4().hex[:8]}",
        "AMF1_ENVIRONMENT": "test",
        "AMF1_WORKERS": "3",
        "AMF1_OTLP_HTTP_ENDPOINT": stack.otlp_http_endpoint,
        "AMF1_OTLP_PROTOCOL": "http",
        "AMF1_LOGSTASH_HOST": stack.log_tcp_host,
        "AMF1_LOGSTASH_PORT": str(stack.log_tcp_port),
        "AMF1_LOG_BUFFER_DIR": str(tmp_path / "buffer"),
        "AMF1_LOG_LEVEL": "info",
        "AMF1_FEEDBACK_TOKEN": FEEDBACK_TOKEN,
    }
    with serve(tmp_path, models_dir, env) as process:
        yield process


def _bodies(url: str, rng: np.random.Generator) -> Iterator[tuple[str, dict[str, Any]]]:
    """Alternating qualifying and race-winner requests over drivers the models know."""
    drivers = httpx.get(f"{url}/drivers", timeout=10).json()["by_model"]
    circuits = httpx.get(f"{url}/circuits", timeout=10).json()["by_model"]
    for i in range(PAIRS):
        if i % 2 == 0:
            yield (
                "qualifying",
                {
                    "driver": drivers[STAGE1_NAME][i % len(drivers[STAGE1_NAME])],
                    "circuit": circuits[STAGE1_NAME][0],
                    "air_temp_c": 24.0,
                    "track_temp_c": 38.5,
                    "humidity_pct": 55.0,
                    "rain_probability": float(rng.uniform(0.0, 0.3)),
                    "practice_best_lap_s": 80.4,
                },
            )
        else:
            field = list(rng.choice(drivers[STAGE2_NAME], size=6, replace=False))
            entries = [
                {"driver": d, "grid_position": k + 1, "qualifying_lap_s": 79.8 + 0.15 * k}
                for k, d in enumerate(field)
            ]
            yield (
                "race-winner",
                {
                    "circuit": circuits[STAGE2_NAME][0],
                    "rain_probability": 0.1,
                    "entries": entries,
                },
            )


def _indexed(es: Elasticsearch, service: str, action: str) -> int:
    query = {
        "bool": {
            "filter": [{"term": {"service.name": service}}, {"term": {"event.action": action}}]
        }
    }
    return count_when_answering(es, query)


@pytest.mark.timeout(480)
def _forged(prediction: dict[str, Any], kind: str) -> dict[str, Any]:
    """An outcome that would push the MAE or Brier far up if it were applied."""
    if kind == "qualifying":
        outcome: dict[str, Any] = {"actual_lap_time_s": round(prediction["lap_time_s"] + 50, 3)}
    else:
        field = prediction["probabilities"]
        outcome = {"actual_winner": min(field, key=lambda p: p["win_probability"])["driver"]}
    return {"prediction_id": prediction["prediction_id"], **outcome}


def test_every_feedback_is_accepted_and_the_watcher_matches_the_offline_values(
    served: Served, es: Elasticsearch, record_property: Any
) -> None:
    """30 predictions, each followed by its feedback: 30 x 202; MAE / Brier as offline.
    Before each real outcome a forged one (50 s off, or the least likely winner) without the
    token or with a wrong one: 401, and the MAE / Brier do not move.

    Each request on its own connection, so the workers share them as they would any clients'.
    """
    rng = np.random.default_rng(41)
    errors: list[float] = []
    squares: list[float] = []
    statuses: Counter[int] = Counter()
    matched_by: Counter[str] = Counter()
    with httpx.Client(base_url=served.url, timeout=15, headers={"Connection": "close"}) as client:
        for kind, body in _bodies(served.url, rng):
            answer = client.post(f"/predict/{kind}", json=body)
            assert answer.status_code == 200, answer.text
            prediction = answer.json()
            if kind == "qualifying":
                actual = round(prediction["lap_time_s"] + float(rng.normal(0.0, 0.5)), 3)
                outcome: dict[str, Any] = {"actual_lap_time_s": actual}
                errors.append(abs(prediction["lap_time_s"] - actual))
            else:
                field = {p["driver"]: p["win_probability"] for p in prediction["probabilities"]}
                winner = str(rng.choice(list(field)))
                outcome = {"actual_winner": winner}
                squares += [(p - (d == winner)) ** 2 for d, p in field.items()]
            forged = _forged(prediction, kind)
            wrong = {"Authorization": f"Bearer {FEEDBACK_TOKEN[::-1]}"}
            statuses[client.post("/feedback", json=forged).status_code] += 1
            statuses[client.post("/feedback", json=forged, headers=wrong).status_code] += 1
            told = client.post(
                "/feedback",
                json={"prediction_id": prediction["prediction_id"], **outcome},
                headers={"Authorization": f"Bearer {FEEDBACK_TOKEN}"},
            )
            statuses[told.status_code] += 1
            if told.status_code == 202:
                matched_by[told.json()["matched_by"]] += 1
    record_property("feedback_matched_by", dict(matched_by))
    assert statuses == {202: PAIRS, 401: 2 * PAIRS}, (statuses, matched_by)

    deadline = time.monotonic() + INDEXED_WITHIN_S
    while True:
        feedback = _indexed(es, served.service_name, "feedback-received")
        predictions = _indexed(es, served.service_name, "prediction-succeeded")
        if (feedback, predictions) == (PAIRS, PAIRS):
            break
        assert time.monotonic() < deadline, f"{feedback} feedback, {predictions} predictions"
        time.sleep(1)

    signal = PerformanceSignal(
        PerformanceConfig(window=1000, min_outcomes=1, grace_s=0.0),
        index_prefix="amf1-logs-",
        service_name=served.service_name,
    )
    with capture_logs() as logs:
        signal.run(es, datetime.now(UTC))
    values = {e["amf1.model.name"]: e for e in logs if e["event.action"] == "model-performance"}
    assert values[STAGE1_NAME]["amf1.performance.value"] == pytest.approx(np.mean(errors), 1e-5)
    assert values[STAGE2_NAME]["amf1.performance.value"] == pytest.approx(np.mean(squares), 1e-5)
    assert values[STAGE2_NAME]["amf1.performance.window_size"] == len(squares)
    record_property("mae", (values[STAGE1_NAME]["amf1.performance.value"], float(np.mean(errors))))
    record_property(
        "brier", (values[STAGE2_NAME]["amf1.performance.value"], float(np.mean(squares)))
    )
    (unmatched,) = [e for e in logs if e["event.action"] == "feedback-unmatched"]
    assert unmatched["amf1.feedback.unmatched_count"] == 0

"""The performance signal against real Elasticsearch and the real log pipeline.

Planted predictions and feedback on a past day give MAE and Brier equal to the values computed
offline from the same pairs; unjoinable feedback is counted by reason; two watchers computing the
signal in one interval index one document per model through the collector.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from elasticsearch import Elasticsearch

import logshipping
from alerting import metrics
from alerting.backend import make_client
from alerting.channels import Channels
from alerting.signals.outcomes import PerformanceConfig
from alerting.signals.performance import PerformanceSignal
from alerting.watcher import Watcher
from tests.alerting.slack_server import SlackServer, slack_fixture
from tests.integration.pipeline_support import wait_for_hits
from tests.integration.watcher_support import (
    Harness,
    SimClock,
    cleanup,
    event,
    harness,
    incident_day,
    plant,
)
from tests.stack_fixtures import StackEndpoints

pytestmark = pytest.mark.integration
__all__ = ["slack_fixture"]

STAGE1, STAGE2 = "stage1-qualifying", "stage2-race-winner"
CONFIG = PerformanceConfig(window=1000, min_outcomes=1, interval_s=60.0, grace_s=60.0)


def uuid7_at(moment: datetime) -> str:
    """A UUIDv7 embedding `moment` (as the service's ids do)."""
    bits = (int(moment.timestamp() * 1000) << 80) | (0x7 << 76) | (0b10 << 62)
    return str(uuid.UUID(int=bits | uuid.uuid4().int & ((1 << 62) - 1)))


def prediction(at: datetime, model: str, **answer: Any) -> dict[str, Any]:
    doc = event(at, "prediction-succeeded")
    doc.update({"amf1.model.name": model, "amf1.model.version": "1", **answer})
    doc["amf1.prediction.id"] = uuid7_at(at)
    return doc


def feedback(at: datetime, prediction_id: str, **outcome: Any) -> dict[str, Any]:
    doc = event(at, "feedback-received")
    doc.update({"amf1.prediction.id": prediction_id, **outcome})
    return doc


@pytest.fixture
def setup(es: Elasticsearch, stack: Any, slack: SlackServer) -> Iterator[Harness]:
    h = harness(stack.es_url, slack, incident_day())
    yield h
    cleanup(es, h)


def test_planted_pairs_give_the_offline_values_and_two_watchers_one_document(
    setup: Harness, es: Elasticsearch, stack: StackEndpoints, tmp_path: Path
) -> None:
    """MAE / Brier equal the offline values; duplicates count once; unmatched by reason."""
    rng = np.random.default_rng(23)
    now = setup.start + timedelta(hours=12)
    start = now - timedelta(hours=2)
    signal = PerformanceSignal(CONFIG, index_prefix=setup.settings.index_prefix)
    slot = signal.unmatched_slot(now)
    docs: list[dict[str, Any]] = []
    errors: list[float] = []
    for i in range(25):
        predicted = float(rng.normal(88.0, 3.0))
        actual = predicted + float(rng.normal(0.0, 0.4))
        made = prediction(
            start + timedelta(seconds=10 * i), STAGE1, **{"amf1.prediction.lap_time_s": predicted}
        )
        told = start + timedelta(seconds=10 * i + 5)
        docs += [
            made,
            feedback(told, made["amf1.prediction.id"], **{"amf1.feedback.lap_time_s": actual}),
        ]
        if i % 5 == 0:  # a later duplicate (another worker also accepted it) does not count
            docs.append(
                feedback(
                    told + timedelta(minutes=30),
                    made["amf1.prediction.id"],
                    **{"amf1.feedback.lap_time_s": actual + 9.0},
                )
            )
        errors.append(abs(predicted - actual))
    squares: list[float] = []
    for r in range(6):
        field = {f"d{k}": float(p) for k, p in enumerate(rng.dirichlet(np.ones(6)))}
        winner = f"d{int(rng.integers(6))}"
        made = prediction(
            start + timedelta(minutes=30 + r),
            STAGE2,
            **{
                "amf1.prediction.probabilities": field,
                "amf1.prediction.win_probability": max(field.values()),
            },
        )
        docs.append(made)
        docs.append(
            feedback(
                start + timedelta(minutes=31 + r),
                made["amf1.prediction.id"],
                **{"amf1.feedback.winner": winner},
            )
        )
        squares += [(p - (d == winner)) ** 2 for d, p in field.items()]
    lap_id, race_id = docs[0]["amf1.prediction.id"], docs[-2]["amf1.prediction.id"]
    judged = slot.start + timedelta(seconds=1)
    docs += [
        feedback(judged, uuid7_at(judged), **{"amf1.feedback.lap_time_s": 90.0}),
        feedback(judged, lap_id, **{"amf1.feedback.winner": "d1"}),
        feedback(judged, race_id, **{"amf1.feedback.lap_time_s": 90.0}),
    ]
    plant(es, docs)

    name = f"amf1-watcher-itest-{uuid.uuid4().hex[:8]}"
    logshipping.configure(
        logshipping.Settings(
            service_name=name,
            log_dataset="amf1.watcher",
            logstash_host=stack.log_tcp_host,
            logstash_port=stack.log_tcp_port,
            log_buffer_dir=tmp_path / "buffer",
            log_strict=True,
        ),
        stream=io.BytesIO(),
    )
    notifier = Channels([])
    clock = SimClock(now)
    for _ in range(2):
        watcher = Watcher(
            setup.settings,
            [],
            make_client(setup.settings),
            notifier,
            clock=clock,
            signals=[PerformanceSignal(CONFIG, index_prefix=setup.settings.index_prefix)],
        )
        assert watcher.run_once()
        assert not watcher.health.failing("signal performance")
    assert logshipping.shutdown(timeout_s=20.0)

    signals = ["model-performance", "feedback-unmatched"]
    mine = {
        "bool": {
            "filter": [
                {"term": {"service.name": name}},
                {"terms": {"event.action": signals}},
            ]
        }
    }
    hits = wait_for_hits(es, mine, 3, timeout_s=60.0)
    by_action: dict[str, list[dict[str, Any]]] = {}
    for hit in hits:
        by_action.setdefault(hit["_source"]["event.action"], []).append(hit["_source"])
    performance = {e["amf1.model.name"]: e for e in by_action["model-performance"]}
    assert len(by_action["model-performance"]) == 2, "two watchers, one document per model"
    assert performance[STAGE1]["amf1.performance.value"] == pytest.approx(np.mean(errors), 1e-5)
    assert performance[STAGE1]["amf1.performance.window_size"] == 25
    assert performance[STAGE2]["amf1.performance.value"] == pytest.approx(np.mean(squares), 1e-5)
    assert performance[STAGE2]["amf1.performance.window_size"] == 36
    # The same values on the watcher's /metrics (amf1_model_mae, amf1_model_brier_score).
    gauge = metrics.REGISTRY.get_sample_value
    assert gauge("amf1_model_mae", {"model": STAGE1}) == pytest.approx(np.mean(errors), 1e-5)
    assert gauge("amf1_model_brier_score", {"model": STAGE2}) == pytest.approx(
        np.mean(squares), 1e-5
    )
    (unmatched,) = by_action["feedback-unmatched"]
    assert unmatched["amf1.feedback.unmatched_count"] == 3
    assert unmatched["amf1.feedback.unmatched.prediction_not_found"] == 1
    assert unmatched["amf1.feedback.unmatched.kind_mismatch"] == 2
    assert unmatched["log.level"] == "warning"

"""Drift over all workers: three workers' drift-counts events, through the real collector into
real Elasticsearch, scored by the watcher's drift signal, alerted on by the drift-warning rule."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import structlog
from elasticsearch import Elasticsearch
from structlog.testing import capture_logs
from structlog.typing import EventDict, WrappedLogger

import logshipping
from alerting import metrics
from alerting.signals.drift import drift_signals
from elk.installer import install
from logshipping.events import Action, emit
from service.monitoring.drift import DriftCounter
from tests.alerting.slack_server import SlackServer, slack_fixture
from tests.integration.pipeline_support import count_when_answering, wait_for_hits
from tests.integration.watcher_support import Harness, cleanup, harness, incident_day, messages
from tests.service.monitoring import synthetic
from tests.stack_fixtures import StackEndpoints

pytestmark = pytest.mark.integration
__all__ = ["slack_fixture"]

SHIFTED = "track_temp_c"
_SIGNAL_ACTIONS = {a.value for a in (Action.DRIFT_COUNTS, Action.DRIFT_DETECTED)}


def _signal_events_only(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    # The watcher's own events (alert-fired, ...) would be stamped today: keep them out of ES.
    if event.get("event.action") not in _SIGNAL_ACTIONS:
        raise structlog.DropEvent
    return event


def worker_reports(model: str, seed: int) -> list[dict[str, Any]]:
    """One worker's drift-counts events for 400 rows with `track_temp_c` 8 C hotter."""
    columns = synthetic.sample_columns(np.random.default_rng(seed), 400, shift={SHIFTED: 8.0})
    counter = DriftCounter(model, "1", synthetic.training_reference())
    with capture_logs() as logs:
        for i, row in enumerate(synthetic.rows(columns), 1):
            counter.update(row)
            if i % 100 == 0:
                counter.report()
    return logs


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


@pytest.fixture
def shipping(stack: StackEndpoints, tmp_path: Path) -> Iterator[None]:
    """This process ships its drift events to the real collector (`amf1 watch`'s set-up)."""
    # As `amf1 watch` does: one line per Elasticsearch request would drown the watcher's events.
    transport = logging.getLogger("elastic_transport")
    level = transport.level
    transport.setLevel(logging.ERROR)
    with (tmp_path / "stdout.jsonl").open("wb") as stream:
        logshipping.configure(
            logshipping.Settings(
                logstash_host=stack.log_tcp_host,
                logstash_port=stack.log_tcp_port,
                log_buffer_dir=tmp_path / "buffer",
                service_name="amf1-watcher",
                log_dataset="amf1.watcher",
            ),
            stream=stream,
            extra_processors=[_signal_events_only],
        )
        yield
        logshipping.shutdown(timeout_s=10)
    transport.setLevel(level)


def _drift_detected(model: str, feature: str | None = None) -> dict[str, Any]:
    terms = [{"term": {"event.action": "drift-detected"}}, {"term": {"amf1.model.name": model}}]
    if feature is not None:
        terms.append({"term": {"amf1.drift.feature": feature}})
    return {"bool": {"filter": terms}}


def test_three_workers_counts_give_one_alert_for_the_shifted_feature(
    es: Elasticsearch, stack: StackEndpoints, slack: SlackServer, shipping: None
) -> None:
    """Counts of three workers, each too few rows to score alone, add up to 1,200 rows: the
    drift signal logs drift-detected for `track_temp_c` only, holds it back through the
    cooldown (read from Elasticsearch), and the drift-warning rule sends exactly one alert."""
    install(es)
    model = f"stage1-test-{uuid.uuid4().hex[:8]}"
    day = incident_day() + timedelta(hours=1)
    sent = 0
    for worker in range(3):
        for n, event in enumerate(worker_reports(model, seed=50 + worker)):
            fields = {k: v for k, v in event.items() if k.startswith("amf1.")}
            at = day - timedelta(seconds=300 - 60 * n - worker)
            emit(
                Action.DRIFT_COUNTS,
                event["event"],
                {**fields, "@timestamp": _iso(at), "process.pid": 1000 + worker},
            )
            sent += 1
    counts_query = {
        "bool": {
            "filter": [
                {"term": {"event.action": "drift-counts"}},
                {"term": {"amf1.model.name": model}},
            ]
        }
    }
    (hit, *_) = wait_for_hits(es, counts_query, sent)
    assert hit["_index"] == f"amf1-logs-{day:%Y.%m.%d}"
    assert set(hit["_source"]["amf1.drift.counts"]) == set(synthetic.FEATURES)

    h: Harness = harness(stack.es_url, slack, day, "drift-warning", watch_interval_s=10.0)
    signals = drift_signals(h.settings.drift, h.settings.index_prefix)
    watcher = h.new_watcher(signals)
    try:
        watcher.run_once()
        h.clock.advance(h.settings.watch_interval_s)
        wait_for_hits(es, _drift_detected(model), 1)
        h.run(h.settings.drift.cooldown_s - 30)
        assert logshipping.shutdown(timeout_s=30)
        assert count_when_answering(es, _drift_detected(model)) == 1
        assert count_when_answering(es, _drift_detected(model, SHIFTED)) == 1
        assert messages(slack, "drift-warning") == [("fired", "warning", SHIFTED)]
        # Every scored feature's PSI on the watcher's /metrics; only the shifted one is high.
        psi = {
            feature: metrics.REGISTRY.get_sample_value(
                "amf1_drift_psi", {"model": model, "feature": feature}
            )
            for feature in synthetic.FEATURES
        }
        threshold = h.settings.drift.psi_threshold
        assert (psi[SHIFTED] or 0.0) > threshold, psi
        assert all(v is None or v <= threshold for f, v in psi.items() if f != SHIFTED), psi
        missing_rate = metrics.REGISTRY.get_sample_value("amf1_data_missing_rate", {"model": model})
        assert missing_rate is not None and 0.0 <= missing_rate < 0.05
    finally:
        cleanup(es, h)

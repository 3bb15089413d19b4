"""Monitoring through the HTTP API: predictions feed drift; feedback is logged for the watcher."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sklearn.metrics import brier_score_loss
from structlog.testing import capture_logs

from alerting.signals.drift_counts import parse_report
from alerting.signals.drift_score import DriftScoring, drifted, score_all
from amf1.loadgen.payloads import PayloadFactory
from logshipping.events import CATALOGUE, Action
from service.features import FEATURES
from service.model_store import model_directory
from service.monitoring.drift import DriftCounter
from service.monitoring.hub import ModelMonitors, MonitoringHub
from service.monitoring.wiring import sync_models
from service.registry import ModelRegistry
from tests.service.conftest import (
    FEEDBACK_AUTH,
    LAST_RACE,
    SEED,
    make_client,
    qualifying_body,
    race_body,
)

STAGE1 = "stage1-qualifying"
STAGE2 = "stage2-race-winner"
# The background task never ticks during a test; tests call `tick()` themselves.
QUIET = {"monitoring_tick_s": 3600.0}


def hub_of(client: TestClient) -> MonitoringHub:
    hub: MonitoringHub = client.app.state.services.monitoring
    return hub


def monitors(client: TestClient, model: str) -> ModelMonitors:
    found = hub_of(client).get(model)
    assert found is not None
    return found


def window(client: TestClient, model: str) -> DriftCounter:
    found = monitors(client, model).drift
    assert found is not None
    return found


def actions(logs: list[dict[str, Any]], action: Action) -> list[dict[str, Any]]:
    return [log for log in logs if log.get("event.action") == action.value]


def test_feedback_is_logged_with_its_outcome_and_the_service_reports_no_performance(
    models_dir: Path,
) -> None:
    """Each feedback-received event carries the prediction id and the outcome for the watcher's
    join; the service itself logs no model-performance (the watcher's whole-service value)."""
    with make_client(models_dir, **QUIET) as client, capture_logs() as logs:
        lap = client.post("/predict/qualifying", json=qualifying_body()).json()
        race = client.post("/predict/race-winner", json=race_body()).json()
        for feedback in (
            {"prediction_id": lap["prediction_id"], "actual_lap_time_s": lap["lap_time_s"] + 0.6},
            {"prediction_id": race["prediction_id"], "actual_winner": "okafor"},
        ):
            assert client.post("/feedback", headers=FEEDBACK_AUTH, json=feedback).status_code == 202
        hub_of(client).tick()
    received = actions(logs, Action.FEEDBACK_RECEIVED)
    assert [e["amf1.prediction.id"] for e in received] == [
        lap["prediction_id"],
        race["prediction_id"],
    ]
    assert received[0]["amf1.feedback.lap_time_s"] == pytest.approx(lap["lap_time_s"] + 0.6)
    assert received[1]["amf1.feedback.winner"] == "okafor"
    assert all(CATALOGUE[Action.FEEDBACK_RECEIVED].missing(e.keys()) == [] for e in received)
    assert actions(logs, Action.MODEL_PERFORMANCE) == []


def test_race_prediction_event_carries_the_whole_field(models_dir: Path) -> None:
    """The stage-2 prediction event holds every driver's probability, as answered: the watcher
    scores winner feedback from it (scikit-learn's Brier equals the response's)."""
    with make_client(models_dir, **QUIET) as client, capture_logs() as logs:
        body = client.post("/predict/race-winner", json=race_body()).json()
        response = client.post(
            "/feedback",
            headers=FEEDBACK_AUTH,
            json={"prediction_id": body["prediction_id"], "actual_winner": "okafor"},
        ).json()
    (event,) = actions(logs, Action.PREDICTION_SUCCEEDED)
    answered = {e["driver"]: e["win_probability"] for e in body["probabilities"]}
    assert event["amf1.prediction.probabilities"] == answered
    won = [1.0 if driver == "okafor" else 0.0 for driver in answered]
    assert response["brier"] == pytest.approx(brier_score_loss(won, list(answered.values())))


def test_each_prediction_adds_one_row_to_the_drift_counts(models_dir: Path) -> None:
    """A qualifying prediction adds its row, a race prediction one of its field's entries."""
    with make_client(models_dir, **QUIET) as client:
        for _ in range(3):
            client.post("/predict/qualifying", json=qualifying_body())
        for _ in range(2):
            client.post("/predict/race-winner", json=race_body())
        client.post("/predict/qualifying", json=qualifying_body(driver="nobody"))  # 422
        assert len(window(client, STAGE1)) == 3
        assert len(window(client, STAGE2)) == 2


def test_data_freshness_is_reported_at_start(models_dir: Path) -> None:
    """Start-up reports each model's training-data age (data-freshness with amf1.data.age_s)."""
    with capture_logs() as logs, make_client(models_dir, **QUIET):
        pass
    fresh = actions(logs, Action.DATA_FRESHNESS)
    assert sorted(event["amf1.model.name"] for event in fresh) == [STAGE1, STAGE2]
    for event in fresh:
        assert CATALOGUE[Action.DATA_FRESHNESS].required <= event.keys()
        assert event["amf1.data.timestamp"] == f"{LAST_RACE.isoformat()}T00:00:00Z"
        assert event["amf1.data.age_s"] > 0


def qualifying_requests(table: Any, n: int, seed: int, track_shift: float) -> list[dict[str, Any]]:
    """`n` qualifying requests drawn from the training table's rows."""
    rng = np.random.default_rng(seed)
    rows = table.iloc[rng.integers(0, len(table), n)]
    requests = []
    for row in rows.itertuples():
        practice = row.practice_best_lap_s
        requests.append(
            {
                "driver": row.driver,
                "circuit": row.circuit,
                "air_temp_c": float(row.air_temp_c),
                "track_temp_c": min(80.0, float(row.track_temp_c) + track_shift),
                "humidity_pct": float(row.humidity_pct),
                "rain_probability": float(row.rain_probability),
                "practice_best_lap_s": None if math.isnan(practice) else float(practice),
            }
        )
    return requests


def drifted_features(
    models_dir: Path, model: str, path: str, bodies: Iterable[dict[str, Any]]
) -> list[str]:
    """Post `bodies` to `path` (each answered 200), let the service report `model`'s drift
    counts, score them as the watcher does over a window of 300 rows, and return the drifted
    features (every feature must have been scored)."""
    with make_client(models_dir, **QUIET) as client:
        for body in bodies:
            assert client.post(path, json=body).status_code == 200
        with capture_logs() as logs:
            window(client, model).report()
    events = [e for e in actions(logs, Action.DRIFT_COUNTS) if e["amf1.model.name"] == model]
    scoring = DriftScoring(window_size=300, min_samples=200)
    merged, found = drifted([parse_report(event) for event in events], scoring)
    assert all(score.score is not None for score in score_all(merged, scoring))
    return [score.feature for score in found]


@pytest.mark.parametrize(("shift", "expected"), [(0.0, []), (15.0, ["track_temp_c"])])
def test_requests_like_the_training_data_do_not_drift_and_a_shift_does(
    models_dir: Path, small_table: Any, shift: float, expected: list[str]
) -> None:
    """300 requests drawn from the training table raise no drift; with the track temperature
    15 C hotter, exactly `track_temp_c` drifts."""
    bodies = qualifying_requests(small_table, 300, seed=5, track_shift=shift)
    assert drifted_features(models_dir, STAGE1, "/predict/qualifying", bodies) == expected


@pytest.mark.parametrize(("rain_shift", "expected"), [(0.0, []), (0.4, ["rain_probability"])])
def test_race_requests_like_the_training_races_do_not_drift_and_a_shift_does(
    models_dir: Path, rain_shift: float, expected: list[str]
) -> None:
    """250 race-winner requests for races of the training table raise no drift, though each
    repeats its weekend's circuit and rain for its whole field; 0.4 more rain drifts exactly
    `rain_probability`."""
    payloads = PayloadFactory.synthetic(seasons=3, seed=SEED)  # the training table's races
    payloads.shift = {"rain_probability": rain_shift}
    bodies = (payloads.race_winner() for _ in range(250))
    assert drifted_features(models_dir, STAGE2, "/predict/race-winner", bodies) == expected


def test_monitoring_follows_the_loaded_models(models_dir: Path) -> None:
    """Every loaded model is monitored on all its features; a model that fails to reload stops
    being monitored, and an unchanged one keeps its window."""
    registry = ModelRegistry(models_dir)
    registry.load_all()
    hub = MonitoringHub()
    sync_models(hub, registry.statuses())
    for name in (STAGE1, STAGE2):
        found = hub.get(name)
        assert found is not None
        assert found.drift is not None
        assert set(found.drift.features) == {feature.name for feature in FEATURES[name]}
    stage2 = hub.get(STAGE2)
    stage1 = hub.get(STAGE1)
    (model_directory(models_dir, STAGE1) / "model.txt").unlink()
    registry.load_all()
    sync_models(hub, registry.statuses())
    # The failed reload keeps the previous stage-1 version serving, so it stays monitored.
    assert hub.get(STAGE1) is stage1
    assert hub.get(STAGE2) is stage2
    fresh = ModelRegistry(models_dir)
    fresh.load_all()
    sync_models(hub, fresh.statuses())
    assert hub.get(STAGE1) is None

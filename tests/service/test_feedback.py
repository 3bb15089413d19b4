"""Feedback is matched to earlier predictions by id, once, within the time-to-live."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.errors import UnknownPredictionError
from service.feedback import Outcome, PredictionRecord, PredictionStore
from tests.service.conftest import qualifying_body, race_body

UNKNOWN_ID = "0190a2b4-0000-7000-8000-000000000000"


def test_lap_time_feedback_is_stored_with_its_error(client: TestClient) -> None:
    """Feedback on a qualifying prediction is accepted and reports the absolute error."""
    prediction = client.post("/predict/qualifying", json=qualifying_body()).json()
    actual = prediction["lap_time_s"] + 0.25
    response = client.post(
        "/feedback",
        json={"prediction_id": prediction["prediction_id"], "actual_lap_time_s": actual},
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "recorded"
    assert body["absolute_error_s"] == pytest.approx(0.25, abs=1e-6)
    assert body["model"] == prediction["model"]


def test_winner_feedback_reports_brier(client: TestClient) -> None:
    """Feedback on a race prediction reports that race's Brier score."""
    prediction = client.post("/predict/race-winner", json=race_body()).json()
    response = client.post(
        "/feedback", json={"prediction_id": prediction["prediction_id"], "actual_winner": "okafor"}
    )
    assert response.status_code == 202
    assert 0.0 <= response.json()["brier"] <= 1.0


def test_unknown_prediction_is_404(client: TestClient) -> None:
    """Feedback for an id never issued is a 404."""
    response = client.post(
        "/feedback", json={"prediction_id": UNKNOWN_ID, "actual_lap_time_s": 80.0}
    )
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "unknown_prediction"


def test_second_feedback_is_409(client: TestClient) -> None:
    """The same prediction cannot receive two outcomes."""
    prediction_id = client.post("/predict/qualifying", json=qualifying_body()).json()[
        "prediction_id"
    ]
    body = {"prediction_id": prediction_id, "actual_lap_time_s": 80.0}
    assert client.post("/feedback", json=body).status_code == 202
    assert client.post("/feedback", json=body).status_code == 409


def test_outcome_of_the_wrong_kind_is_422(client: TestClient) -> None:
    """A winner for a lap-time prediction, or a winner outside the field, is refused."""
    lap_id = client.post("/predict/qualifying", json=qualifying_body()).json()["prediction_id"]
    race_id = client.post("/predict/race-winner", json=race_body()).json()["prediction_id"]
    wrong_kind = client.post("/feedback", json={"prediction_id": lap_id, "actual_winner": "varga"})
    outsider = client.post("/feedback", json={"prediction_id": race_id, "actual_winner": "quispe"})
    both = client.post(
        "/feedback",
        json={"prediction_id": lap_id, "actual_winner": "varga", "actual_lap_time_s": 80.0},
    )
    assert [r.status_code for r in (wrong_kind, outsider, both)] == [422, 422, 422]
    assert "actual_lap_time_s" in wrong_kind.json()["error"]["message"]


def test_store_forgets_expired_predictions() -> None:
    """After the time-to-live a prediction no longer accepts feedback."""
    now = [0.0]
    store = PredictionStore(max_items=10, ttl_s=60.0, clock=lambda: now[0])
    store.add(PredictionRecord("a", "m", "v", lap_time_s=80.0))
    now[0] = 61.0
    with pytest.raises(UnknownPredictionError):
        store.record_outcome("a", Outcome(lap_time_s=80.0))


def test_store_is_bounded() -> None:
    """When full, the oldest predictions are dropped first."""
    store = PredictionStore(max_items=3, ttl_s=3600.0)
    for name in "abcde":
        store.add(PredictionRecord(name, "m", "v", lap_time_s=80.0))
    assert len(store) == 3
    assert store.get("a") is None
    assert store.get("e") is not None

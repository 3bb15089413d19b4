"""`POST /feedback`: any worker accepts an outcome for any prediction the service could have made;
the worker that made it also checks it against the prediction and answers with its error."""

from __future__ import annotations

import time
import uuid

import pytest
from fastapi.testclient import TestClient

from service.errors import FeedbackAlreadyRecordedError
from service.feedback import Outcome, PredictionRecord, PredictionStore
from tests.service.conftest import FEEDBACK_AUTH, qualifying_body, race_body


def uuid7_at(seconds: float) -> str:
    """A UUIDv7 whose embedded time is `seconds` since the epoch."""
    bits = (int(seconds * 1000) << 80) | (0x7 << 76) | (0b10 << 62) | 0x1234
    return str(uuid.UUID(int=bits))


def test_lap_time_feedback_is_stored_with_its_error(client: TestClient) -> None:
    """Feedback on a prediction of this worker reports the absolute error, matched here."""
    prediction = client.post("/predict/qualifying", json=qualifying_body()).json()
    actual = prediction["lap_time_s"] + 0.25
    response = client.post(
        "/feedback",
        headers=FEEDBACK_AUTH,
        json={"prediction_id": prediction["prediction_id"], "actual_lap_time_s": actual},
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "recorded"
    assert body["matched_by"] == "service"
    assert body["absolute_error_s"] == pytest.approx(0.25, abs=1e-6)
    assert body["model"] == prediction["model"]


def test_winner_feedback_reports_brier(client: TestClient) -> None:
    """Feedback on a race prediction reports that race's Brier score."""
    prediction = client.post("/predict/race-winner", json=race_body()).json()
    response = client.post(
        "/feedback",
        headers=FEEDBACK_AUTH,
        json={"prediction_id": prediction["prediction_id"], "actual_winner": "okafor"},
    )
    assert response.status_code == 202
    assert 0.0 <= response.json()["brier"] <= 1.0


def test_feedback_for_a_prediction_of_another_worker_is_accepted_for_the_watcher(
    client: TestClient,
) -> None:
    """A recent UUIDv7 this worker does not hold is a 202 whose outcome the watcher matches."""
    prediction_id = uuid7_at(time.time() - 30)
    response = client.post(
        "/feedback",
        headers=FEEDBACK_AUTH,
        json={"prediction_id": prediction_id, "actual_lap_time_s": 80.0},
    )
    assert response.status_code == 202
    assert response.json() == {
        "prediction_id": prediction_id,
        "model": None,
        "status": "recorded",
        "matched_by": "watcher",
        "absolute_error_s": None,
        "brier": None,
    }


@pytest.mark.parametrize(
    ("prediction_id", "reason"),
    [
        ("0190a2b4-0000-4000-8000-000000000000", "not_uuid7"),
        (uuid7_at(time.time() - 2 * 86400), "expired"),
        (uuid7_at(time.time() + 3600), "from_the_future"),
    ],
)
def test_an_id_no_prediction_can_have_is_404_with_the_reason(
    client: TestClient, prediction_id: str, reason: str
) -> None:
    """Not a UUIDv7, older than the time-to-live, or from the future: 404 naming the reason."""
    response = client.post(
        "/feedback",
        headers=FEEDBACK_AUTH,
        json={"prediction_id": prediction_id, "actual_lap_time_s": 80.0},
    )
    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["type"], error["reason"]) == ("unknown_prediction", reason)


@pytest.mark.parametrize(
    "extra",
    [{}, {"actual_lap_time_s": 80.0, "actual_winner": "varga"}],
    ids=["neither", "both"],
)
def test_both_or_neither_outcome_is_422(client: TestClient, extra: dict[str, object]) -> None:
    """Exactly one outcome: a lap time or a winner."""
    body = {"prediction_id": uuid7_at(time.time()), **extra}
    response = client.post("/feedback", headers=FEEDBACK_AUTH, json=body)
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "exactly one of actual_lap_time_s or actual_winner" in message


def test_lap_time_out_of_bounds_is_422(client: TestClient) -> None:
    """A lap time outside the schema's bounds (20, 300] s is refused."""
    body = {"prediction_id": uuid7_at(time.time()), "actual_lap_time_s": 12.0}
    response = client.post("/feedback", headers=FEEDBACK_AUTH, json=body)
    assert response.status_code == 422
    assert "actual_lap_time_s" in response.json()["error"]["message"]


def test_a_winner_the_race_model_does_not_know_is_422(client: TestClient) -> None:
    """A winner who is no driver of the loaded stage-2 model is refused by any worker."""
    body = {"prediction_id": uuid7_at(time.time()), "actual_winner": "nobody-at-all"}
    response = client.post("/feedback", headers=FEEDBACK_AUTH, json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert (error["type"], error["reason"]) == ("feedback_mismatch", "unknown_driver")
    assert "GET /drivers" in error["message"]


def test_the_schema_says_one_of_two_request_bodies(client: TestClient) -> None:
    """OpenAPI: the feedback body is `oneOf` a lap-time and a winner body."""
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/feedback"]["post"]["requestBody"]["content"]["application/json"]
    refs = [option["$ref"].rsplit("/", 1)[1] for option in body["schema"]["oneOf"]]
    assert refs == ["LapTimeFeedback", "WinnerFeedback"]


def test_second_feedback_is_409(client: TestClient) -> None:
    """The same prediction cannot receive two outcomes at the worker that holds it."""
    prediction_id = client.post("/predict/qualifying", json=qualifying_body()).json()[
        "prediction_id"
    ]
    body = {"prediction_id": prediction_id, "actual_lap_time_s": 80.0}
    assert client.post("/feedback", headers=FEEDBACK_AUTH, json=body).status_code == 202
    assert client.post("/feedback", headers=FEEDBACK_AUTH, json=body).status_code == 409


def test_outcome_of_the_wrong_kind_is_422(client: TestClient) -> None:
    """A winner for a lap-time prediction, or a winner outside the field, is refused."""
    lap_id = client.post("/predict/qualifying", json=qualifying_body()).json()["prediction_id"]
    race_id = client.post("/predict/race-winner", json=race_body()).json()["prediction_id"]
    wrong_kind = client.post(
        "/feedback", headers=FEEDBACK_AUTH, json={"prediction_id": lap_id, "actual_winner": "varga"}
    )
    outsider = client.post(
        "/feedback",
        headers=FEEDBACK_AUTH,
        json={"prediction_id": race_id, "actual_winner": "quispe"},
    )
    assert [r.status_code for r in (wrong_kind, outsider)] == [422, 422]
    assert "actual_lap_time_s" in wrong_kind.json()["error"]["message"]
    assert wrong_kind.json()["error"]["reason"] == "kind_mismatch"
    assert outsider.json()["error"]["reason"] == "winner_not_in_field"


def test_store_forgets_expired_predictions() -> None:
    """After the time-to-live this process no longer holds a prediction."""
    now = [0.0]
    store = PredictionStore(max_items=10, ttl_s=60.0, clock=lambda: now[0])
    store.add(PredictionRecord("a", "m", "v", lap_time_s=80.0))
    now[0] = 61.0
    assert store.record_outcome("a", Outcome(lap_time_s=80.0)) is None


def test_store_refuses_a_second_outcome() -> None:
    """A held prediction takes one outcome."""
    store = PredictionStore(max_items=10, ttl_s=60.0)
    store.add(PredictionRecord("a", "m", "v", lap_time_s=80.0))
    assert store.record_outcome("a", Outcome(lap_time_s=80.5)) is not None
    with pytest.raises(FeedbackAlreadyRecordedError):
        store.record_outcome("a", Outcome(lap_time_s=80.0))


def test_store_is_bounded() -> None:
    """When full, the oldest predictions are dropped first."""
    store = PredictionStore(max_items=3, ttl_s=3600.0)
    for name in "abcde":
        store.add(PredictionRecord(name, "m", "v", lap_time_s=80.0))
    assert len(store) == 3
    assert store.get("a") is None
    assert store.get("e") is not None

"""Exactly one log event per request, its action chosen by the outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from logshipping.events import CATALOGUE, Action
from service.features import STAGE1_NAME
from service.registry import ModelRegistry
from tests.service.conftest import FEEDBACK_AUTH, make_client, qualifying_body


def _one_event(client: TestClient, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    with capture_logs() as logs:
        client.request(method, path, **kwargs)
    assert len(logs) == 1, logs
    return logs[0]


def _has_required_fields(event: dict[str, Any]) -> bool:
    return CATALOGUE[Action(event["event.action"])].required <= set(event)


def test_successful_prediction_is_one_prediction_succeeded_event(client: TestClient) -> None:
    """A 200 prediction logs prediction-succeeded with HTTP, duration and amf1 fields."""
    event = _one_event(client, "POST", "/predict/qualifying", json=qualifying_body())
    assert event["event.action"] == "prediction-succeeded"
    assert event["http.response.status_code"] == 200
    assert event["url.path"] == "/predict/qualifying"
    assert isinstance(event["event.duration"], int)
    assert event["event.duration"] > 0
    assert event["amf1.model.name"] == STAGE1_NAME
    assert event["amf1.driver"] == "varga"
    assert event["amf1.circuit"] == "monza"
    assert event["amf1.prediction.lap_time_s"] > 0
    assert _has_required_fields(event)


def test_rejected_input_is_request_rejected_not_failure(client: TestClient) -> None:
    """A 4xx is request-rejected (warning) with the validation message, never a failure."""
    event = _one_event(
        client, "POST", "/predict/qualifying", json=qualifying_body(humidity_pct=140)
    )
    assert event["event.action"] == "request-rejected"
    assert event["log_level"] == "warning"
    assert event["error.type"] == "validation_error"
    assert "humidity_pct" in event["error.message"]
    assert _has_required_fields(event)


def test_oversized_body_is_one_rejected_event(client: TestClient) -> None:
    """A 413 from the body limit is logged once, as request-rejected."""
    event = _one_event(client, "POST", "/predict/qualifying", content=b" " * 70_000)
    assert (event["event.action"], event["error.type"]) == ("request-rejected", "body_too_large")


def test_probe_and_feedback_actions(client: TestClient) -> None:
    """Non-prediction routes log http-access; accepted feedback logs feedback-received."""
    assert _one_event(client, "GET", "/health")["event.action"] == "http-access"
    prediction_id = client.post("/predict/qualifying", json=qualifying_body()).json()[
        "prediction_id"
    ]
    event = _one_event(
        client,
        "POST",
        "/feedback",
        headers=FEEDBACK_AUTH,
        json={"prediction_id": prediction_id, "actual_lap_time_s": 80.1},
    )
    assert event["event.action"] == "feedback-received"
    assert event["amf1.prediction.id"] == prediction_id
    assert _has_required_fields(event)


def test_crash_is_json_500_and_one_failure_event_with_stack(
    models_dir: Path, monkeypatch: Any
) -> None:
    """An unexpected exception answers a JSON 500 and logs prediction-failed with a stack trace."""

    def explode(self: ModelRegistry, name: str) -> None:
        raise RuntimeError("booster exploded")

    with make_client(models_dir) as client:
        monkeypatch.setattr(ModelRegistry, "get", explode)
        with capture_logs() as logs:
            response = client.post("/predict/qualifying", json=qualifying_body())
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "internal_error"
    (event,) = logs
    assert event["event.action"] == "prediction-failed"
    assert event["log_level"] == "error"
    assert event["error.type"] == "RuntimeError"
    assert event["error.message"] == "booster exploded"
    assert "Traceback" in event["error.stack_trace"]
    assert event["amf1.model.name"] == STAGE1_NAME
    assert _has_required_fields(event)

"""`POST /feedback` needs its own bearer token: without it nothing moves the MAE or Brier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from logshipping.events import CATALOGUE, Action
from service.settings import Settings
from tests.service.conftest import (
    ADMIN_TOKEN,
    FEEDBACK_AUTH,
    FEEDBACK_TOKEN,
    make_client,
    qualifying_body,
)


def _lap_feedback(client: TestClient) -> dict[str, Any]:
    prediction = client.post("/predict/qualifying", json=qualifying_body()).json()
    actual = prediction["lap_time_s"] + 0.5
    return {"prediction_id": prediction["prediction_id"], "actual_lap_time_s": actual}


def _actions(logs: list[dict[str, Any]], action: Action) -> list[dict[str, Any]]:
    return [log for log in logs if log.get("event.action") == action.value]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing_token"),
        ({"Authorization": "Bearer not-the-feedback-token"}, "wrong_token"),
        ({"Authorization": f"Bearer {ADMIN_TOKEN}"}, "wrong_token"),
    ],
    ids=["no-token", "wrong-token", "admin-token"],
)
def test_feedback_without_its_token_is_401_and_not_applied(
    client: TestClient, headers: dict[str, str], reason: str
) -> None:
    """No or a wrong token: 401 naming the header to send, a feedback-refused event without
    the token, no feedback-received event (the watcher's MAE/Brier input), and the prediction
    still takes its real outcome afterwards."""
    body = _lap_feedback(client)
    with capture_logs() as logs:
        response = client.post("/feedback", json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    error = response.json()["error"]
    assert error["type"] == "unauthorized"
    assert "Authorization: Bearer <AMF1_FEEDBACK_TOKEN>" in error["message"]
    (refused,) = _actions(logs, Action.FEEDBACK_REFUSED)
    assert refused["amf1.feedback.refused_reason"] == reason
    assert CATALOGUE[Action.FEEDBACK_REFUSED].missing(refused.keys()) == []
    assert _actions(logs, Action.FEEDBACK_RECEIVED) == []
    shown = repr(logs) + response.text
    assert FEEDBACK_TOKEN not in shown
    assert "not-the-feedback-token" not in shown

    accepted = client.post("/feedback", json=body, headers=FEEDBACK_AUTH)
    assert accepted.status_code == 202
    assert accepted.json()["absolute_error_s"] == pytest.approx(0.5, abs=1e-6)


def test_feedback_with_its_token_is_accepted(client: TestClient) -> None:
    """The right token: 202 and one feedback-received event."""
    body = _lap_feedback(client)
    with capture_logs() as logs:
        response = client.post("/feedback", json=body, headers=FEEDBACK_AUTH)
    assert response.status_code == 202
    assert len(_actions(logs, Action.FEEDBACK_RECEIVED)) == 1
    assert _actions(logs, Action.FEEDBACK_REFUSED) == []


def test_feedback_is_disabled_without_a_configured_token(models_dir: Path) -> None:
    """No AMF1_FEEDBACK_TOKEN: 403 naming the variable, whatever the client sends."""
    with make_client(models_dir, feedback_token=None) as client:
        body = _lap_feedback(client)
        with capture_logs() as logs:
            response = client.post("/feedback", json=body, headers=FEEDBACK_AUTH)
    assert response.status_code == 403
    assert "AMF1_FEEDBACK_TOKEN" in response.json()["error"]["message"]
    (refused,) = _actions(logs, Action.FEEDBACK_REFUSED)
    assert refused["amf1.feedback.refused_reason"] == "disabled"


def test_the_schema_declares_the_feedback_token(client: TestClient) -> None:
    """OpenAPI: /feedback requires the FeedbackToken bearer scheme and documents 401/403."""
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/feedback"]["post"]
    assert operation["security"] == [{"FeedbackToken": []}]
    scheme = schema["components"]["securitySchemes"]["FeedbackToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert {"401", "403"} <= set(operation["responses"])


@pytest.mark.parametrize("token", ["", "  ", "changeme", "token"])
def test_empty_or_placeholder_feedback_token_refused_outside_development(token: str) -> None:
    """Settings refuse an empty or placeholder feedback token in production."""
    with pytest.raises(ValueError, match="AMF1_FEEDBACK_TOKEN"):
        Settings(environment="production", feedback_token=token)

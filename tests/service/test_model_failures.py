"""Model-load failures are first-class: typed, visible in /health and /models, answered with
503 naming model and reason, and recoverable by reload without a restart."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from service.features import STAGE1_NAME, STAGE2_NAME
from service.metadata import METADATA_FILE, MODEL_FILE
from service.model_store import model_directory
from tests.service.conftest import ADMIN_TOKEN, make_client, qualifying_body, race_body


def _missing(directory: Path) -> None:
    (directory / MODEL_FILE).unlink()


def _corrupt(directory: Path) -> None:
    (directory / METADATA_FILE).write_text("{not json")


def _corrupt_model(directory: Path) -> None:
    garbage = b"tree\nthis is not a LightGBM model\n"
    (directory / MODEL_FILE).write_bytes(garbage)
    metadata = json.loads((directory / METADATA_FILE).read_text())
    metadata["model_sha256"] = hashlib.sha256(garbage).hexdigest()
    (directory / METADATA_FILE).write_text(json.dumps(metadata))


def _checksum(directory: Path) -> None:
    with (directory / MODEL_FILE).open("a") as handle:
        handle.write("\n# edited after training\n")


def _schema(directory: Path) -> None:
    metadata = json.loads((directory / METADATA_FILE).read_text())
    metadata["features"][2]["name"] = "air_temperature_f"
    (directory / METADATA_FILE).write_text(json.dumps(metadata))


CASES: list[tuple[str, Callable[[Path], None], str, str]] = [
    ("missing", _missing, "missing_file", "ModelFileMissingError"),
    ("corrupt-metadata", _corrupt, "corrupt_file", "ModelFileCorruptError"),
    ("corrupt-model", _corrupt_model, "corrupt_file", "ModelFileCorruptError"),
    ("checksum", _checksum, "checksum_mismatch", "ModelChecksumMismatchError"),
    ("schema", _schema, "schema_mismatch", "ModelSchemaMismatchError"),
]


@pytest.mark.parametrize(
    ("case", "breaker", "reason", "error_type"), CASES, ids=[c[0] for c in CASES]
)
def test_broken_stage1_model_degrades_and_reload_recovers(
    models_dir: Path,
    tmp_path: Path,
    case: str,
    breaker: Callable[[Path], None],
    reason: str,
    error_type: str,
) -> None:
    """A broken stage-1 model: service starts, 503 names it, health and models say why."""
    backup = tmp_path / "backup"
    served = model_directory(models_dir, STAGE1_NAME)
    shutil.copytree(served, backup)
    breaker(served)
    with capture_logs() as logs, make_client(models_dir) as client:
        failed = [e for e in logs if e.get("event.action") == "model-load-failed"]
        assert [e["error.type"] for e in failed] == [error_type]
        assert failed[0]["amf1.model.name"] == STAGE1_NAME

        response = client.post("/predict/qualifying", json=qualifying_body())
        assert response.status_code == 503
        error = response.json()["error"]
        assert (error["model"], error["reason"]) == (STAGE1_NAME, reason)
        assert STAGE1_NAME in error["message"]
        # The other model still serves.
        assert client.post("/predict/race-winner", json=race_body()).status_code == 200

        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["reasons"] == [f"{STAGE1_NAME}: {reason}"]
        assert client.get("/ready").status_code == 503
        listed = {m["name"]: m for m in client.get("/models").json()["models"]}
        assert listed[STAGE1_NAME]["loaded"] is False
        assert listed[STAGE1_NAME]["error"]["type"] == error_type
        assert listed[STAGE2_NAME]["loaded"] is True

        shutil.rmtree(served)
        shutil.copytree(backup, served)
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert client.post("/admin/models/reload", headers=auth).status_code == 200
        assert client.post("/predict/qualifying", json=qualifying_body()).status_code == 200
        assert client.get("/health").json()["status"] == "ok"
        assert client.get("/ready").status_code == 200


def test_unavailable_model_is_logged_as_prediction_failure(models_dir: Path) -> None:
    """The 503 of an unloaded model is a prediction-failed event naming the load error."""
    _checksum(model_directory(models_dir, STAGE2_NAME))
    with make_client(models_dir) as client, capture_logs() as logs:
        client.post("/predict/race-winner", json=race_body())
    (event,) = logs
    assert event["event.action"] == "prediction-failed"
    assert event["log_level"] == "error"
    assert event["error.type"] == "ModelChecksumMismatchError"
    assert event["amf1.model.name"] == STAGE2_NAME
    assert event["http.response.status_code"] == 503


def test_empty_models_dir_starts_degraded(tmp_path: Path) -> None:
    """With no models at all the service still answers: health degraded, both missing."""
    with make_client(tmp_path) as client:
        body = client.get("/health").json()
        assert body["status"] == "degraded"
        assert sorted(body["reasons"]) == [
            f"{STAGE1_NAME}: missing_file",
            f"{STAGE2_NAME}: missing_file",
        ]
        assert client.post("/predict/qualifying", json=qualifying_body()).status_code == 503


def test_model_status_reports_every_model_loaded_or_not(models_dir: Path) -> None:
    """At start-up each model reports its status; a broken one says not loaded, at warning."""
    _checksum(model_directory(models_dir, STAGE1_NAME))
    with capture_logs() as logs, make_client(models_dir):
        pass
    reports = {e["amf1.model.name"]: e for e in logs if e.get("event.action") == "model-status"}
    assert set(reports) == {STAGE1_NAME, STAGE2_NAME}
    assert reports[STAGE1_NAME]["amf1.model.loaded"] is False
    assert reports[STAGE1_NAME]["log_level"] == "warning"
    assert reports[STAGE1_NAME]["error.type"] == "ModelChecksumMismatchError"
    assert reports[STAGE2_NAME]["amf1.model.loaded"] is True
    assert reports[STAGE2_NAME]["log_level"] == "info"

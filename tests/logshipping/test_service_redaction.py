"""End to end: the real service, run with known secrets, never logs or ships one of them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.logshipping.receiver import LineReceiver
from tests.ports import free_port
from tests.service.conftest import qualifying_body, race_body, small_table, trained

__all__ = ["small_table", "trained"]  # session fixtures shared with the service tests

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK = "https://hooks.slack.com/services/T0AMF1/B0AMF1/e2eWebhookSecret42"
ES_PASSWORD = "e2e-es-p@ss:w0rd/42"
ADMIN_TOKEN = "e2e-admin-token-5b8e1d"
FEEDBACK_TOKEN = "e2e-feedback-token-9c4a70"
SECRETS = (WEBHOOK, ES_PASSWORD, ADMIN_TOKEN, FEEDBACK_TOKEN, "e2eWebhookSecret42")


@dataclass
class ServiceRun:
    """What one run of the service wrote to stdout/stderr and shipped."""

    stdout: bytes
    stderr: bytes
    shipped: bytes
    statuses: dict[str, int]


def _drive(base: str, models_dir: Path) -> dict[str, int]:
    """Every endpoint and failure path, with secrets planted in inputs and headers."""
    statuses: dict[str, int] = {}
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    told = {"Authorization": f"Bearer {FEEDBACK_TOKEN}"}
    with httpx.Client(base_url=base, timeout=30) as client:

        def call(name: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
            response = client.request(method, path, **kwargs)
            statuses[name] = response.status_code
            return response

        for path in ("/health", "/ready", "/models", "/drivers", "/circuits", "/openapi.json"):
            call(path, "GET", path)
        call("query secret", "GET", "/health", params={"password": ES_PASSWORD, "q": WEBHOOK})
        call("header secrets", "GET", "/models", headers={"X-Webhook": WEBHOOK, **auth})
        ok = call("qualifying", "POST", "/predict/qualifying", json=qualifying_body())
        call("race", "POST", "/predict/race-winner", json=race_body())
        call("secret driver", "POST", "/predict/qualifying", json=qualifying_body(driver=WEBHOOK))
        call("secret circuit", "POST", "/predict/race-winner", json={"circuit": ES_PASSWORD})
        call("bad json", "POST", "/predict/qualifying", content=f"{{{ADMIN_TOKEN}")
        call("too big", "POST", "/predict/qualifying", content=b"x" * 200_000)
        prediction_id = ok.json().get("prediction_id", "none")
        feedback = {"prediction_id": prediction_id, "actual_lap_time_s": 80.1}
        call("feedback no token", "POST", "/feedback", json=feedback)
        call("feedback wrong token", "POST", "/feedback", json=feedback, headers=auth)
        call("feedback", "POST", "/feedback", json=feedback, headers=told)
        call("feedback again", "POST", "/feedback", json=feedback, headers=told)
        unknown = {"prediction_id": ADMIN_TOKEN}
        call("feedback unknown", "POST", "/feedback", json=unknown, headers=told)
        call("admin no token", "POST", "/admin/models/reload")
        call(
            "admin wrong token",
            "POST",
            "/admin/models/reload",
            headers={"Authorization": f"Bearer {WEBHOOK}"},
        )
        call("admin reload", "POST", "/admin/models/reload", headers=auth)
        call("not found", "GET", f"/{ADMIN_TOKEN}")
        call("wrong method", "DELETE", "/health")
        for model_file in models_dir.glob("*/model*"):
            model_file.write_bytes(b"corrupt " + ES_PASSWORD.encode())
        call("reload corrupt", "POST", "/admin/models/reload", headers=auth)
        call("predict unloaded", "POST", "/predict/qualifying", json=qualifying_body())
        call("race unloaded", "POST", "/predict/race-winner", json=race_body())
    return statuses


def _wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "service exited during start-up"
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("service did not become healthy")


@pytest.fixture(scope="module")
def service_run(
    trained: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceRun]:
    """Runs the service once with known secrets, drives it, stops it gracefully."""
    tmp = tmp_path_factory.mktemp("e2e")
    models_dir = tmp / "models"
    shutil.copytree(trained[0], models_dir)
    receiver = LineReceiver().start()
    port = free_port()
    env = os.environ | {
        "AMF1_SLACK_WEBHOOK_URL": WEBHOOK,
        "AMF1_ES_PASSWORD": ES_PASSWORD,
        "AMF1_ADMIN_TOKEN": ADMIN_TOKEN,
        "AMF1_FEEDBACK_TOKEN": FEEDBACK_TOKEN,
        "AMF1_LOGSTASH_PORT": str(receiver.port),
        "AMF1_LOG_BUFFER_DIR": str(tmp / "buffer"),
        "AMF1_MODELS_DIR": str(models_dir),
        "AMF1_PORT": str(port),
        "AMF1_ENVIRONMENT": "development",
        "OTEL_SDK_DISABLED": "true",
    }
    stdout, stderr = tmp / "stdout", tmp / "stderr"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.logshipping.serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_healthy(base, process)
            statuses = _drive(base, models_dir)
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    receiver.wait_for(lambda ev: len(ev) >= len(stdout.read_bytes().splitlines()) - 5, 30)
    receiver.stop()
    yield ServiceRun(stdout.read_bytes(), stderr.read_bytes(), b"\n".join(receiver.lines), statuses)


def _forms(secret: str) -> set[str]:
    return {
        secret,
        orjson.dumps(secret).decode()[1:-1],
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret, safe="/:"),
        urllib.parse.quote(secret),
    }


def test_no_secret_in_stdout_stderr_or_the_shipped_stream(service_run: ServiceRun) -> None:
    """Known secrets (webhook, ES password, admin and feedback tokens) appear nowhere, in no
    encoding."""
    assert service_run.statuses["qualifying"] == 200
    assert service_run.statuses["feedback no token"] == 401
    assert service_run.statuses["feedback wrong token"] == 401
    assert service_run.statuses["feedback"] == 202
    assert service_run.statuses["admin reload"] == 200
    for name, text in (
        ("stdout", service_run.stdout),
        ("stderr", service_run.stderr),
        ("shipped", service_run.shipped),
    ):
        decoded = text.decode(errors="replace")
        for secret in SECRETS:
            for form in _forms(secret):
                assert form not in decoded, f"a secret leaked into {name}"


def test_every_stdout_line_is_one_json_event_and_was_shipped(service_run: ServiceRun) -> None:
    """stdout is JSON lines only; every event on stdout reached the receiver."""
    events = [orjson.loads(line) for line in service_run.stdout.splitlines()]
    assert events
    shipped = {orjson.loads(line)["event.id"] for line in service_run.shipped.splitlines()}
    own = [e for e in events if e.get("log.logger") != "logshipping.shipper"]
    assert {e["event.id"] for e in own} <= shipped
    actions = {e["event.action"] for e in events}
    assert {"service-started", "prediction-succeeded", "request-rejected"} <= actions

"""`amf1 health`: the weekly check against the real service and the real Elasticsearch."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid

import pytest

from amf1.cli import main
from amf1.health.checks import Check, worst
from amf1.loadgen.actions import reload_models
from amf1.loadgen.client import Target
from amf1.loadgen.runner import run_sync
from tests.amf1.conftest import ADMIN_TOKEN, IsolatedIndices, RunningService
from tests.ports import free_port


def _today_events(count: int, errors: int) -> list[dict[str, object]]:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    docs: list[dict[str, object]] = []
    for i in range(count):
        failed = i < errors
        docs.append(
            {
                "@timestamp": (now - dt.timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
                "event.id": str(uuid.uuid4()),
                "event.action": "prediction-failed" if failed else "prediction-succeeded",
                "log.level": "error" if failed else "info",
                "error.type": "ModelNotLoadedError" if failed else None,
                "tags": ["error", "prediction_error"] if failed else [],
                "message": "x",
            }
        )
    return docs


def _run_health(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    isolated: IsolatedIndices,
    service_url: str,
) -> tuple[int, dict[str, dict[str, object]]]:
    monkeypatch.setenv("AMF1_INDEX_PREFIX", isolated.settings.index_prefix)
    monkeypatch.setenv("AMF1_STATE_INDEX", isolated.settings.state_index)
    code = main(["health", "--json", "--service-url", service_url])
    out = capsys.readouterr().out
    document = json.loads(out[out.rindex('{\n  "status"') :])
    return code, {check["name"]: check for check in document["checks"]}


@pytest.mark.integration
def test_healthy_system_passes_with_counts_and_last_alerts(
    service: RunningService,
    isolated: IsolatedIndices,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Service up with both models, today's docs counted, errors by type, last alert per rule."""
    isolated.plant(_today_events(count=12, errors=3))
    fired = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    isolated.plant_alert_states(
        [
            {
                "rule": "prediction-errors",
                "group": "",
                "status": "firing",
                "severity": "warning",
                "fired_at": fired,
                "last_notified_at": fired,
            }
        ]
    )
    code, checks = _run_health(monkeypatch, capsys, isolated, service.url)
    assert code == 0
    assert checks["service"]["status"] == "ok"
    assert set(checks["service"]["data"]["models"]) == {"stage1-qualifying", "stage2-race-winner"}
    assert checks["today's index"]["data"]["docs"] == 12
    assert checks["errors (7 d)"]["data"] == {"count": 3, "by_type": {"ModelNotLoadedError": 3}}
    assert checks["last alerts"]["data"]["rules"]["prediction-errors"]["state"] == "firing"
    assert "disk" in checks


@pytest.mark.integration
def test_dead_service_makes_health_fail(
    isolated: IsolatedIndices,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Nothing listening on the service URL -> the service check fails and the exit code is 1."""
    code, checks = _run_health(monkeypatch, capsys, isolated, f"http://127.0.0.1:{free_port()}")
    assert code == 1
    assert checks["service"]["status"] == "fail"
    assert "unreachable" in str(checks["service"]["detail"])


@pytest.mark.integration
def test_unloaded_model_makes_health_fail(
    service: RunningService,
    isolated: IsolatedIndices,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A reload that fails (file gone) keeps the previous version serving: the check warns and
    names the failure."""
    shutil.rmtree(service.models_dir / "stage2-race-winner")
    reload = main_reload(service)
    assert reload == 200
    _, checks = _run_health(monkeypatch, capsys, isolated, service.url)
    assert checks["service"]["status"] == "warn"
    assert "stage2-race-winner: reload failed" in str(checks["service"]["detail"])


def main_reload(service: RunningService) -> int:
    """Ask the service to reload its models (admin token of the test service)."""
    result = run_sync(lambda: reload_models(Target.from_url(service.url), ADMIN_TOKEN))
    return result.status


def test_overall_status_is_the_worst_check() -> None:
    """One failing check fails the whole; warnings alone only warn."""
    assert worst([Check("a", "ok", ""), Check("b", "warn", "")]) == "warn"
    assert worst([Check("a", "warn", ""), Check("b", "fail", "")]) == "fail"
    assert worst([]) == "ok"

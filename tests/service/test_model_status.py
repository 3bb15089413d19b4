"""model-status reports come at most once per interval, for every model."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from structlog.testing import capture_logs

from service.errors import ModelFileMissingError
from service.model_status import ModelStatusReporter
from service.registry import ModelStatus


def _missing(name: str) -> ModelStatus:
    error = ModelFileMissingError(name, Path("models") / name / "model.txt", "file not found")
    return ModelStatus(name, None, error, dt.datetime.now(dt.UTC))


def test_reports_once_per_interval() -> None:
    """A second call inside the interval reports nothing; after it, every model again."""
    now = [0.0]
    reporter = ModelStatusReporter(15.0, clock=lambda: now[0])
    statuses = {"a": _missing("a"), "b": _missing("b")}
    with capture_logs() as logs:
        assert reporter.report_if_due(statuses)
        now[0] = 14.9
        assert not reporter.report_if_due(statuses)
        now[0] = 15.0
        assert reporter.report_if_due(statuses)
    assert [e["amf1.model.name"] for e in logs] == ["a", "b", "a", "b"]
    assert all(e["amf1.model.loaded"] is False for e in logs)
    assert logs[0]["error.message"] == "file not found"

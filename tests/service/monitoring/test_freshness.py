"""Data-freshness events: the age of a model's training data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs

from logshipping.events import CATALOGUE, Action
from service.monitoring.freshness import FreshnessConfig, report_freshness

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_fresh_data_is_reported_at_info_level_with_its_age() -> None:
    """Data 2 h old: an info event with `amf1.data.age_s` = 7200."""
    with capture_logs() as logs:
        age = report_freshness(
            "stage1-qualifying", "1", NOW - timedelta(hours=2), FreshnessConfig(), NOW
        )
    assert age == 7200.0
    (event,) = logs
    assert event["event.action"] == Action.DATA_FRESHNESS.value
    assert CATALOGUE[Action.DATA_FRESHNESS].required <= event.keys()
    assert event["amf1.data.age_s"] == 7200.0
    assert event["amf1.data.timestamp"] == "2026-11-27T10:00:00Z"
    assert event["log_level"] == "info"


def test_data_older_than_the_stale_threshold_is_a_warning() -> None:
    """Data older than `stale_after_s` (24 h by default) is reported at warning level."""
    with capture_logs() as logs:
        report_freshness("stage2-race-winner", "1", NOW - timedelta(days=2), FreshnessConfig(), NOW)
    assert logs[0]["log_level"] == "warning"
    assert logs[0]["amf1.data.age_s"] == 172800.0

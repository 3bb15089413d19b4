"""The monitoring hub: per-model monitors and the periodic work that reports them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from structlog.testing import capture_logs

from logshipping.events import Action
from service.metadata import NumericReference
from service.monitoring.drift import DriftConfig
from service.monitoring.freshness import FreshnessConfig
from service.monitoring.hub import MonitoringConfig, MonitoringHub
from tests.service.monitoring import synthetic

STAGE1 = "stage1-qualifying"
STAGE2 = "stage2-race-winner"
WALL = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def hub(clock: Clock, **overrides: Any) -> MonitoringHub:
    config = MonitoringConfig(
        drift=overrides.get("drift", DriftConfig()),
        freshness=FreshnessConfig(interval_s=300.0),
        tick_interval_s=overrides.get("tick_interval_s", 1.0),
    )
    return MonitoringHub(config, clock=clock, wall_clock=lambda: WALL)


def actions(logs: list[dict[str, Any]], action: Action) -> list[dict[str, Any]]:
    return [log for log in logs if log.get("event.action") == action.value]


def test_freshness_is_reported_at_registration_and_every_interval() -> None:
    """Loading a model reports its data age at once, then every `interval_s`."""
    clock = Clock()
    h = hub(clock)
    with capture_logs() as logs:
        h.register_model(STAGE1, "1", None, WALL - timedelta(hours=30))
        h.tick()
        clock.now += 299.0
        h.tick()
        clock.now += 1.0
        h.tick()
    fresh = actions(logs, Action.DATA_FRESHNESS)
    assert len(fresh) == 2
    assert fresh[0]["amf1.data.age_s"] == 30 * 3600
    assert fresh[0]["log_level"] == "warning"


def test_prediction_rows_feed_drift_counts_and_ticks_report_them() -> None:
    """Observed rows are binned; the next due tick reports them as one drift-counts event."""
    clock = Clock()
    h = hub(clock)
    h.register_model(STAGE1, "1", synthetic.training_reference(), None)
    columns = synthetic.sample_columns(np.random.default_rng(41), 1_000, shift={"air_temp_c": 9})
    with capture_logs() as logs:
        for row in synthetic.rows(columns):
            h.observe(STAGE1, row)
        h.tick()
    (counts,) = actions(logs, Action.DRIFT_COUNTS)
    assert counts["amf1.drift.rows"] == 1_000
    assert actions(logs, Action.DRIFT_DETECTED) == []


def test_a_replaced_or_unloaded_model_reports_its_pending_counts() -> None:
    """Rows counted before a reload or an unload are reported, not lost."""
    h = hub(Clock())
    h.register_model(STAGE1, "1", synthetic.training_reference(), None)
    rows = synthetic.rows(synthetic.sample_columns(np.random.default_rng(42), 30))
    with capture_logs() as logs:
        for row in rows:
            h.observe(STAGE1, row)
        h.register_model(STAGE1, "2", synthetic.training_reference(), None)
        for row in rows[:10]:
            h.observe(STAGE1, row)
        h.unregister_model(STAGE1)
    reported = [
        (event["amf1.model.version"], event["amf1.drift.rows"])
        for event in actions(logs, Action.DRIFT_COUNTS)
    ]
    assert reported == [("1", 30), ("2", 10)]


def test_the_hub_tracks_no_model_performance() -> None:
    """Model performance is the watcher's (whole service): the hub never reports it."""
    clock = Clock()
    h = hub(clock)
    h.register_model(STAGE2, "2", None, WALL - timedelta(days=1))
    with capture_logs() as logs:
        for _ in range(3):
            clock.now += 3600.0
            h.tick()
    assert actions(logs, Action.MODEL_PERFORMANCE) == []
    assert not hasattr(h, "record_outcomes")


def test_a_malformed_reference_disables_drift_but_keeps_the_model() -> None:
    """A bad reference is logged as a warning; the model stays registered without drift."""
    h = hub(Clock())
    with capture_logs() as logs:
        bad = NumericReference(bin_edges=[2.0, 1.0], proportions=[1.0], missing_rate=0.0)
        monitors = h.register_model(STAGE1, "1", {"lap": bad}, None)
    assert monitors.drift is None
    assert logs[0]["log_level"] == "warning"
    assert "'lap'" in logs[0]["event"]
    h.observe(STAGE1, [1.0])


def test_observing_an_unknown_model_is_a_no_op() -> None:
    """Rows for a model that is not registered are ignored, without error."""
    h = hub(Clock())
    h.observe("nope", [1.0])
    h.unregister_model("nope")


def test_a_failing_monitor_does_not_stop_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception in one model's periodic work is logged; the next model is still reported."""
    clock = Clock()
    h = hub(clock)
    broken = h.register_model(STAGE1, "1", synthetic.training_reference(), None)
    h.register_model(STAGE2, "1", None, WALL)
    assert broken.drift is not None

    def explode(now: float | None = None) -> bool:
        raise RuntimeError("boom")

    monkeypatch.setattr(broken.drift, "due", explode)
    clock.now += 300.0  # the next freshness report is due
    with capture_logs() as logs:
        h.tick()
    assert [log["event"] for log in logs if log["log_level"] == "error"] == [
        "monitoring tick failed"
    ]
    assert len(actions(logs, Action.DATA_FRESHNESS)) == 1


def test_running_ticks_in_the_background_until_the_block_ends() -> None:
    """Inside `running()` the hub ticks on its own; leaving the block stops the task."""
    h = MonitoringHub(
        MonitoringConfig(freshness=FreshnessConfig(interval_s=0.01), tick_interval_s=0.01)
    )
    h.register_model(STAGE1, "1", None, WALL - timedelta(days=1))

    async def scenario() -> list[dict[str, Any]]:
        with capture_logs() as logs:
            async with h.running():
                for _ in range(500):
                    if logs:
                        break
                    await asyncio.sleep(0.01)
            tasks = [t for t in asyncio.all_tasks() if t.get_name() == "amf1-monitoring"]
            assert tasks == []
        return logs

    logs = asyncio.run(scenario())
    assert actions(logs, Action.DATA_FRESHNESS)

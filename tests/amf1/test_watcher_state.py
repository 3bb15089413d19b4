"""The operator tools see the watcher's alert states as incidents, through the watcher's model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerting.state_machine import AlertState
from amf1.watcher_state import record_of

FIRED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_a_firing_state_is_an_open_incident() -> None:
    """Firing: fired at `fired_at`, not resolved, last changed when it fired."""
    state = AlertState(
        rule="high-latency",
        group="",
        status="firing",
        severity="warning",
        fired_at=FIRED,
        last_notified_at=FIRED + timedelta(hours=1),
        value=0.3,
    )
    record = record_of(state)
    assert record is not None
    assert (record.state, record.resolved_at, record.last_change) == ("firing", None, FIRED)


def test_an_ok_state_that_fired_is_a_resolved_incident() -> None:
    """Back to ok with `fired_at` kept: resolved at its last notification (the resolution)."""
    resolved = FIRED + timedelta(minutes=10)
    state = AlertState(
        rule="prediction-errors",
        group="",
        status="ok",
        severity="critical",
        fired_at=FIRED,
        last_notified_at=resolved,
    )
    record = record_of(state)
    assert record is not None
    assert (record.state, record.resolved_at, record.last_change) == (
        "resolved",
        resolved,
        resolved,
    )


def test_a_group_that_never_fired_is_no_incident() -> None:
    """A state that never fired (ok, no `fired_at`) is left out."""
    assert record_of(AlertState(rule="silence", group="")) is None

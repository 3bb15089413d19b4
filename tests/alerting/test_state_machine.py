"""The alert state machine: fire once, escalate, repeat hourly, resolve after N clean runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerting.evaluate import Verdict, Window
from alerting.rules import Rule
from alerting.state_machine import AlertState, Transition, advance, make_deliveries
from tests.alerting.samples import message

RULE = Rule.model_validate(
    {
        "id": "mae",
        "title": "MAE",
        "search": "s",
        "window": 60,
        "condition": {"type": "count"},
        "warning": 0.4,
        "critical": 0.5,
    }
)
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _step(state: AlertState, value: float, at_s: float) -> Transition:
    verdict = Verdict("", RULE.severity_of(value), value, 5, None)
    window = Window.ending(T0 + timedelta(seconds=at_s), 60)
    return advance(
        state, verdict=verdict, window=window, rule=RULE, repeat_after_s=3600, resolve_after=3
    )


def _run(values: list[tuple[float, float]]) -> list[str | None]:
    state, kinds = AlertState(rule="mae", group=""), []
    for at_s, value in values:
        t = _step(state, value, at_s)
        state = t.state
        kinds.append(t.kind)
    return kinds


def test_fires_once_then_resolves_after_three_clean_evaluations() -> None:
    """A breach fires once; it resolves on the third clean evaluation in a row, not before."""
    assert _run(
        [(0, 0.45), (1, 0.45), (2, 0.3), (3, 0.3), (4, 0.45), (5, 0.3), (6, 0.3), (7, 0.3)]
    ) == ["fired", None, None, None, None, None, None, "resolved"]


def test_critical_escalates_and_drops_pending_warning() -> None:
    """Warning then critical: one escalation message, the unsent warning is suppressed."""
    state = _step(AlertState(rule="mae", group=""), 0.45, 0).state
    state.pending.extend(make_deliveries(state, "fired", message(), ["slack-alerts"], T0))
    t = _step(state, 0.6, 1)
    assert t.kind == "escalated"
    assert t.state.severity == "critical"
    assert t.state.pending == []


def test_repeats_at_most_hourly() -> None:
    """Still breaching: a repeat only once an hour has passed since the last message."""
    assert _run([(0, 0.6), (1800, 0.6), (3599, 0.6), (3600, 0.6), (3700, 0.6)]) == [
        "fired",
        None,
        None,
        "repeat",
        None,
    ]


def test_same_or_older_window_is_a_no_op() -> None:
    """A window not later than the last one applied changes nothing (second watcher, restart)."""
    fired = _step(AlertState(rule="mae", group=""), 0.6, 10).state
    again = _step(fired, 0.6, 10)
    assert again.kind is None
    assert not again.changed


def test_clean_group_that_was_ok_needs_no_write() -> None:
    """Nothing to store for a clean evaluation of a quiet alert."""
    assert not _step(AlertState(rule="mae", group=""), 0.1, 0).changed


def test_one_delivery_per_routed_channel() -> None:
    """A critical message routed to three channels is three deliveries, each its own."""
    state = _step(AlertState(rule="mae", group=""), 0.6, 0).state
    deliveries = make_deliveries(
        state, "fired", message(), ["slack-critical", "pagerduty", "email"], T0
    )
    assert [d.channel for d in deliveries] == ["slack-critical", "pagerduty", "email"]
    assert len({d.id for d in deliveries}) == 3
    assert state.channels == ["email", "pagerduty", "slack-critical"]


def test_resolution_goes_to_every_channel_told_of_the_incident() -> None:
    """Warning to #amf1-alerts, escalated to the critical route: the resolution goes to both."""
    state = _step(AlertState(rule="mae", group=""), 0.45, 0).state
    make_deliveries(state, "fired", message(), ["slack-alerts"], T0)
    state = _step(state, 0.6, 1).state
    make_deliveries(state, "escalated", message(), ["slack-critical", "pagerduty"], T0)
    resolved = make_deliveries(state, "resolved", message("resolved"), ["slack-critical"], T0)
    assert sorted(d.channel for d in resolved) == ["pagerduty", "slack-alerts", "slack-critical"]

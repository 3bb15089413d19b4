"""Each rule of the alert set fires exactly once for its planted incident and resolves after.

Events are planted on a private day; the watcher runs on a simulated clock every 5 s over that
day, against real Elasticsearch, and the Slack stand-in records what arrives.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from alerting.signals.drift_score import DriftScoring
from elk.installer import install
from tests.alerting.slack_server import SlackServer, slack_fixture
from tests.integration.watcher_support import (
    cleanup,
    event,
    harness,
    incident_day,
    messages,
    plant,
)

pytestmark = pytest.mark.integration
__all__ = ["slack_fixture"]  # the `slack` fixture, shared with tests/alerting

S1, S2 = "stage1-qualifying", "stage2-race-winner"
Planted = list[tuple[float, str, dict[str, Any]]]


def every(step: float, start: float, stop: float) -> Iterator[float]:
    t = start
    while t < stop:
        yield t
        t += step


def _status() -> Planted:
    out: Planted = []
    for t in every(10, -120, 400):
        out.append((t, "model-status", {"amf1__model__name": S1, "amf1__model__loaded": True}))
        out.append((t, "model-status", {"amf1__model__name": S2, "amf1__model__loaded": t >= 200}))
    return out


def _predictions() -> Planted:
    out: Planted = [
        (t, "prediction-succeeded", {"event__duration": 10**7}) for t in every(2, -300, 480)
    ]
    out += [
        (t, "request-rejected", {"http__response__status_code": 422}) for t in every(3, -300, 480)
    ]
    out += [
        (
            t,
            "prediction-failed",
            {
                "error__type": "ValueError",
                "amf1__driver": "HAM",
                "amf1__circuit": "monza",
                "trace__id": "ab" * 16,
            },
        )
        for t in every(2, 100, 120)
    ]
    return out


def _performance(metric: str, values: list[tuple[float, float]]) -> Planted:
    out: Planted = []
    for t in every(30, -60, 300):
        value = next(v for start, v in reversed(values) if t >= start)
        out.append(
            (
                t,
                "model-performance",
                {"amf1__performance__metric": metric, "amf1__performance__value": value},
            )
        )
    return out


def _latency() -> Planted:
    return [
        (t, "prediction-succeeded", {"event__duration": 3 * 10**8 if 100 <= t < 160 else 5 * 10**7})
        for t in every(2, -200, 420)
    ]


def _missing() -> Planted:
    return [
        (
            t,
            "missing-data-rate",
            {"amf1__model__name": S1, "amf1__data__missing_rate": 0.1 if 60 <= t < 150 else 0.01},
        )
        for t in every(30, -60, 300)
    ]


def _freshness() -> Planted:
    out: Planted = []
    for t in every(60, -120, 240):
        out.append((t, "data-freshness", {"amf1__model__name": S1, "amf1__data__age_s": 100.0}))
        out.append(
            (
                t,
                "data-freshness",
                {"amf1__model__name": S2, "amf1__data__age_s": 90000.0 if t < 120 else 100.0},
            )
        )
    return out


def _silence() -> Planted:
    return [
        (t, "http-access", {"url__path": "/health"})
        for t in [*every(10, -300, 100), *every(10, 600, 700)]
    ]


@dataclass(frozen=True)
class Case:
    rule: str
    planted: Planted
    run_until_s: float
    expected: dict[str, list[tuple[str, str, str]]]  # Slack channel -> its messages


CASES = [
    Case(
        "model-load-failure",
        [(30, "model-load-failed", {"amf1__model__name": S1, "error__type": "ChecksumMismatch"})],
        400,
        {"critical": [("fired", "critical", S1), ("resolved", "critical", S1)]},
    ),
    Case(
        "model-not-loaded",
        _status(),
        300,
        {"critical": [("fired", "critical", S2), ("resolved", "critical", S2)]},
    ),
    Case(
        "prediction-errors",
        _predictions(),
        480,
        {"critical": [("fired", "critical", ""), ("resolved", "critical", "")]},
    ),
    Case(
        "drift-warning",
        [
            (30, "drift-detected", {"amf1__drift__feature": "track_temp"}),
            (40, "drift-detected", {"amf1__drift__feature": "track_temp"}),
            (50, "drift-detected", {"amf1__drift__feature": "tyre_age"}),
        ],
        1000,
        {
            "data": [
                ("fired", "warning", "track_temp"),
                ("fired", "warning", "tyre_age"),
                ("resolved", "warning", "track_temp"),
                ("resolved", "warning", "tyre_age"),
            ]
        },
    ),
    Case(
        "stage1-degradation",
        _performance("mae", [(-1000, 0.3), (60, 0.45), (150, 0.55), (240, 0.3)]),
        300,
        # The warning went to #amf1-alerts, the escalation to #amf1-critical: both hear of the
        # resolution.
        {
            "alerts": [("fired", "warning", ""), ("resolved", "critical", "")],
            "critical": [("escalated", "critical", ""), ("resolved", "critical", "")],
        },
    ),
    Case(
        "stage2-degradation",
        _performance("brier", [(-1000, 0.040), (60, 0.046), (150, 0.040)]),
        300,
        {"alerts": [("fired", "warning", ""), ("resolved", "warning", "")]},
    ),
    Case(
        "high-latency",
        _latency(),
        420,
        {"alerts": [("fired", "warning", ""), ("resolved", "warning", "")]},
    ),
    Case(
        "missing-data",
        _missing(),
        300,
        {"data": [("fired", "warning", S1), ("resolved", "warning", S1)]},
    ),
    Case(
        "stale-data",
        _freshness(),
        200,
        {"data": [("fired", "warning", S2), ("resolved", "warning", S2)]},
    ),
    Case(
        "silence",
        _silence(),
        650,
        {"critical": [("fired", "critical", ""), ("resolved", "critical", "")]},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_rule_fires_once_and_resolves(
    es: Elasticsearch, stack: Any, slack: SlackServer, case: Case
) -> None:
    """The rule's incident gives exactly one alert per group, then exactly one resolution."""
    install(es)
    day = incident_day() + timedelta(hours=1)
    plant(es, [event(day + timedelta(seconds=t), a, **f) for t, a, f in case.planted])
    h = harness(stack.es_url, slack, day, case.rule)
    h.new_watcher()
    try:
        h.run(case.run_until_s)
        received = {ch: messages(slack, case.rule, ch) for ch in ("critical", "alerts", "data")}
        assert {ch: found for ch, found in received.items() if found} == case.expected
    finally:
        cleanup(es, h)


def test_a_drift_that_keeps_being_reported_stays_one_alert(
    es: Elasticsearch, stack: Any, slack: SlackServer
) -> None:
    """While a drift lasts, the drift signal repeats its event once per cooldown, at its first
    scoring after it (up to a score interval later). With the watcher's defaults and
    the shipped rule, that is one alert, resolved once after the last event, not a resolution
    and a new alert every cooldown."""
    install(es)
    defaults = DriftScoring()
    period_s = defaults.cooldown_s + defaults.score_interval_s
    times = [30 + i * period_s for i in range(4)]
    day = incident_day() + timedelta(hours=1)
    feature = {"amf1__drift__feature": "track_temp"}
    plant(es, [event(day + timedelta(seconds=t), "drift-detected", **feature) for t in times])
    h = harness(stack.es_url, slack, day, "drift-warning", watch_interval_s=10.0)
    h.new_watcher()
    try:
        h.run(times[-1] + 20 * 60)
        assert messages(slack, "drift-warning") == [
            ("fired", "warning", "track_temp"),
            ("resolved", "warning", "track_temp"),
        ]
    finally:
        cleanup(es, h)


def test_alert_message_has_value_example_and_links(
    es: Elasticsearch, stack: Any, slack: SlackServer
) -> None:
    """The prediction-error message shows value vs threshold, the example and the three links."""
    install(es)
    day = incident_day() + timedelta(hours=1)
    plant(es, [event(day + timedelta(seconds=t), a, **f) for t, a, f in _predictions()])
    # A served Jaeger UI gets a trace link; the `amf1 trace` command is named either way.
    h = harness(stack.es_url, slack, day, "prediction-errors", jaeger_ui_url="http://jaeger:16686")
    h.new_watcher()
    h.run(130)
    block = slack.received[0].body["blocks"][1]["text"]["text"]
    example = slack.received[0].body["blocks"][2]["text"]["text"]
    assert "threshold &gt; 1.00%" in block
    assert "driver HAM, circuit monza, error ValueError" in example
    assert "/app/discover#/view/amf1-search-predictions?_g=" in block
    assert f"/trace/{'ab' * 16}|Jaeger trace>" in block
    assert f"Trace: `amf1 trace {'ab' * 16}`" in block
    assert "alerting/runbooks/prediction-errors.md" in block
    cleanup(es, h)

"""The watcher reports its own trouble once when it lasts, and its recovery once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs

from alerting.health import ELASTICSEARCH, Health

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_one_degraded_message_when_the_outage_lasts_then_one_recovered() -> None:
    """Short blips say nothing; a lasting outage says "degraded" once and "recovered" once."""
    health = Health(degraded_after_s=30, instance="host:1")
    with capture_logs() as logs:
        health.problem(ELASTICSEARCH, "ConnectionError", _at(0))
        assert health.due_messages(_at(10)) == []
        health.problem(ELASTICSEARCH, "ConnectionError", _at(20))
        [degraded] = health.due_messages(_at(30))
        assert health.due_messages(_at(60)) == []
        health.clear(ELASTICSEARCH)
        [recovered] = health.due_messages(_at(70))
        assert health.due_messages(_at(80)) == []
    assert "Watcher degraded on host:1" in degraded.summary
    assert "elasticsearch: ConnectionError" in degraded.summary
    assert "Watcher recovered" in recovered.summary
    assert degraded.incident_key == recovered.incident_key
    assert [e["event.action"] for e in logs] == ["watcher-degraded", "watcher-recovered"]


def test_a_blip_shorter_than_the_delay_sends_nothing() -> None:
    """A problem that clears before `degraded_after_s` produces no message."""
    health = Health(degraded_after_s=30, instance="h")
    health.problem("rule x", "400 parsing_exception", _at(0))
    health.clear("rule x")
    assert health.due_messages(_at(40)) == []


def test_a_failing_rule_query_is_a_rule_problem() -> None:
    """A rule whose query Elasticsearch refuses is listed (and `watch --once` exits 1)."""
    health = Health(degraded_after_s=30, instance="h")
    health.problem("rule silence", "400 parsing_exception", _at(0))
    assert health.rule_problems == {"rule silence": "400 parsing_exception"}
    assert not health.failing(ELASTICSEARCH)


def test_each_new_problem_is_reported_once() -> None:
    """A channel failing while the watcher is already degraded is reported too, once."""
    health = Health(degraded_after_s=30, instance="h")
    health.problem(ELASTICSEARCH, "ConnectionError", _at(0))
    assert len(health.due_messages(_at(30))) == 1
    health.problem("channel pagerduty", "HTTP 500", _at(40))
    assert health.due_messages(_at(50)) == []
    [second] = health.due_messages(_at(70))
    assert "channel pagerduty: HTTP 500" in second.summary
    assert "elasticsearch" not in second.summary
    assert health.failing_channels == {"pagerduty"}
    assert health.due_messages(_at(80)) == []


def test_a_notice_is_reported_at_once_then_recovers() -> None:
    """A malformed state document set aside: one degraded message now, recovered next."""
    health = Health(degraded_after_s=30, instance="h")
    health.notice("state alert:x:1", "malformed document set aside", _at(0))
    [notice] = health.due_messages(_at(0))
    assert "state alert:x:1: malformed document set aside" in notice.summary
    [recovered] = health.due_messages(_at(1))
    assert recovered.kind == "recovered"

"""The watcher neither repeats nor loses an alert: restarts, two instances, Slack and ES outages.

One incident (a model-load-failure event at t=30 s, window 5 min) and exactly two messages
expected in every scenario: fired, then resolved.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from elasticsearch import Elasticsearch

from elk.installer import install
from tests.alerting.slack_server import SlackServer, slack_fixture
from tests.integration.watcher_support import (
    Harness,
    TcpProxy,
    cleanup,
    event,
    harness,
    incident_day,
    messages,
    plant,
)

pytestmark = pytest.mark.integration
__all__ = ["slack_fixture"]  # the `slack` fixture, shared with tests/alerting

RULE = "model-load-failure"
MODEL = "stage2-race-winner"
ONCE = [("fired", "critical", MODEL), ("resolved", "critical", MODEL)]


@pytest.fixture
def incident(es: Elasticsearch, stack: Any, slack: SlackServer) -> Iterator[Harness]:
    """A planted model-load failure at t=30 s and a harness for the rule (no watcher yet)."""
    install(es)
    day = incident_day() + timedelta(hours=2)
    failure = {"amf1__model__name": MODEL, "error__type": "FileNotFoundError"}
    plant(es, [event(day + timedelta(seconds=30), "model-load-failed", **failure)])
    h = harness(stack.es_url, slack, day, RULE)
    yield h
    cleanup(es, h)


def test_restart_mid_incident_sends_no_duplicate(incident: Harness, slack: SlackServer) -> None:
    """A watcher replaced while the alert fires neither re-sends it nor misses the resolution."""
    first = incident.new_watcher()
    incident.run(100, [first])
    assert messages(slack, RULE) == ONCE[:1]
    second = incident.new_watcher()
    incident.run(400, [second])
    assert messages(slack, RULE) == ONCE


def test_two_watchers_send_one_message(incident: Harness, slack: SlackServer) -> None:
    """Two watchers on the same state, one after the other every cycle: each message once."""
    pair = [incident.new_watcher(), incident.new_watcher()]
    incident.run(400, pair)
    assert messages(slack, RULE) == ONCE


def test_two_racing_watchers_send_one_message(incident: Harness, slack: SlackServer) -> None:
    """Three watchers evaluating at the same instant in parallel threads: each message once."""
    trio = [incident.new_watcher() for _ in range(3)]
    incident.run(400, trio, parallel=True)
    assert messages(slack, RULE) == ONCE


def test_slack_rate_limit_then_ok_delivers_once(incident: Harness, slack: SlackServer) -> None:
    """Slack answers 429 with Retry-After: 1, then 200: the alert arrives exactly once."""
    slack.fail_next(429, retry_after=1)
    incident.new_watcher()
    incident.run(400)
    assert messages(slack, RULE) == ONCE
    assert slack.attempts == 3  # the 429, its retry, the resolution


def test_slack_down_then_up_delivers_once(incident: Harness, slack: SlackServer) -> None:
    """Slack unreachable while the alert fires: it waits in state and goes out once on recovery."""
    slack.stop()
    incident.new_watcher()
    incident.run(100)
    slack.start()
    incident.run(400)
    assert messages(slack, RULE) == ONCE


def test_pending_message_survives_a_restart(incident: Harness, slack: SlackServer) -> None:
    """Slack down, watcher restarted, Slack back: the waiting alert goes out once."""
    slack.stop()
    first = incident.new_watcher()
    incident.run(100, [first])
    slack.start()
    second = incident.new_watcher()
    incident.run(400, [second])
    assert messages(slack, RULE) == ONCE


def test_elasticsearch_outage_degraded_then_catch_up(
    incident: Harness, slack: SlackServer, stack_control: Any
) -> None:
    """ES stopped: no crash, one degraded alert; started: the missed incident fires once."""
    watcher = incident.new_watcher()
    incident.run(20)
    stack_control.stop("elasticsearch")
    try:
        incident.run(200)
        assert sum("Watcher degraded" in t for t in slack.texts()) == 1
        assert messages(slack, RULE) == []
    finally:
        stack_control.start("elasticsearch")
    incident.run(600)
    assert watcher.run_once()
    assert messages(slack, RULE) == ONCE
    assert sum("Watcher recovered" in t for t in slack.texts()) == 1


def test_elasticsearch_unreachable_then_back_through_a_cut_line(
    es: Elasticsearch, stack: Any, slack: SlackServer
) -> None:
    """The line to ES cut mid-run: no crash, one degraded alert; restored: catch-up, once."""
    install(es)
    day = incident_day() + timedelta(hours=3)
    failure = {"amf1__model__name": MODEL, "error__type": "FileNotFoundError"}
    plant(es, [event(day + timedelta(seconds=100), "model-load-failed", **failure)])
    target = urlsplit(stack.es_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 9200)
    proxy.start()
    h = harness(proxy.url, slack, day, RULE)
    watcher = h.new_watcher()
    try:
        h.run(50)
        proxy.stop()
        h.run(200)
        assert not watcher.run_once()
        assert sum("Watcher degraded" in t for t in slack.texts()) == 1
        assert messages(slack, RULE) == []
        proxy.start()
        h.run(600)
        assert watcher.run_once()
        assert messages(slack, RULE) == ONCE
        assert sum("Watcher recovered" in t for t in slack.texts()) == 1
    finally:
        proxy.stop()
        cleanup(es, h)

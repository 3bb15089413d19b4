"""Every channel, end to end on real Elasticsearch: routing, once per channel, isolation.

Slack's three channels, PagerDuty (a local HTTPS Events API v2) and email (a local SMTP server
with STARTTLS and AUTH) behind one watcher, or several; a model-load failure at t=30 s (critical)
or a missing-data rate (a `category: data` warning).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from alerting.state_store import alert_id
from elk.installer import install
from tests.alerting.pagerduty_server import ROUTING_KEY, PagerDutyServer, pagerduty_fixture
from tests.alerting.slack_server import SlackServer, slack_fixture
from tests.alerting.smtp_server import PASSWORD, USER, SmtpServer, smtp_fixture
from tests.integration.watcher_support import (
    Harness,
    cleanup,
    event,
    harness,
    incident_day,
    messages,
    plant,
)

pytestmark = pytest.mark.integration
__all__ = ["pagerduty_fixture", "slack_fixture", "smtp_fixture"]

RULE = "model-load-failure"
MODEL = "stage2-race-winner"
ONCE = [("fired", "critical", MODEL), ("resolved", "critical", MODEL)]


def channel_options(pagerduty: PagerDutyServer, smtp: SmtpServer, **over: Any) -> dict[str, Any]:
    """Settings pointing PagerDuty and email at the local servers."""
    return {
        "pagerduty_routing_key": ROUTING_KEY,
        "pagerduty_url": pagerduty.url,
        "pagerduty_ca_cert": pagerduty.cert_file,
        "pagerduty_timeout_s": 2,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_username": USER,
        "smtp_password": PASSWORD,
        "smtp_ca_cert": smtp.cert_file,
        "smtp_timeout_s": 5.0,
        "email_from": "watcher@amf1.example",
        "email_to": "oncall@amf1.example",
        **over,
    }


def _failure(day: Any) -> list[dict[str, Any]]:
    fields = {"amf1__model__name": MODEL, "error__type": "FileNotFoundError"}
    return [event(day + timedelta(seconds=30), "model-load-failed", **fields)]


@pytest.fixture
def critical(
    es: Elasticsearch,
    stack: Any,
    slack: SlackServer,
    pagerduty: PagerDutyServer,
    smtp: SmtpServer,
) -> Iterator[Harness]:
    """A planted model-load failure and a harness with every channel configured."""
    install(es)
    day = incident_day() + timedelta(hours=4)
    plant(es, _failure(day))
    h = harness(stack.es_url, slack, day, RULE, **channel_options(pagerduty, smtp))
    yield h
    cleanup(es, h)


def _assert_once_everywhere(
    slack: SlackServer, pagerduty: PagerDutyServer, smtp: SmtpServer
) -> None:
    assert messages(slack, RULE, "critical") == ONCE
    assert messages(slack, RULE, "alerts") == messages(slack, RULE, "data") == []
    events = [e for e in pagerduty.events if e["dedup_key"].startswith(f"amf1/{RULE}/")]
    assert [e["event_action"] for e in events] == ["trigger", "resolve"]
    assert len({e["dedup_key"] for e in events}) == 1
    subjects = [s for m in smtp.received if "Model load" in (s := str(m.message["Subject"]))]
    assert subjects == [
        f"[amf1] FIRED CRITICAL: Model load failure [{MODEL}]",
        f"[amf1] RESOLVED CRITICAL: Model load failure [{MODEL}]",
    ]


def test_critical_goes_to_slack_critical_pagerduty_and_email_once_each(
    critical: Harness, slack: SlackServer, pagerduty: PagerDutyServer, smtp: SmtpServer
) -> None:
    """Fired and resolved, once per channel; PagerDuty closes its incident by the same key."""
    critical.new_watcher()
    critical.run(400)
    _assert_once_everywhere(slack, pagerduty, smtp)
    assert "Runbook" in smtp.received[0].part("plain")


def test_restart_and_racing_replicas_send_once_per_channel(
    critical: Harness, slack: SlackServer, pagerduty: PagerDutyServer, smtp: SmtpServer
) -> None:
    """Three watchers racing in threads, then a fresh one: still once per channel."""
    trio = [critical.new_watcher() for _ in range(3)]
    critical.run(100, trio, parallel=True)
    fresh = critical.new_watcher()
    critical.run(400, [fresh])
    _assert_once_everywhere(slack, pagerduty, smtp)


def test_data_warning_goes_to_the_data_channel_only(
    es: Elasticsearch,
    stack: Any,
    slack: SlackServer,
    pagerduty: PagerDutyServer,
    smtp: SmtpServer,
) -> None:
    """A missing-data warning (category data): #amf1-data, neither PagerDuty nor email."""
    install(es)
    day = incident_day() + timedelta(hours=5)
    rate = [
        (
            t,
            {"amf1__model__name": "stage1-qualifying", "amf1__data__missing_rate": 0.2},
        )
        for t in range(0, 90, 30)
    ]
    plant(es, [event(day + timedelta(seconds=t), "missing-data-rate", **f) for t, f in rate])
    h = harness(stack.es_url, slack, day, "missing-data", **channel_options(pagerduty, smtp))
    h.new_watcher()
    try:
        h.run(60)
        assert messages(slack, "missing-data", "data") == [
            ("fired", "warning", "stage1-qualifying")
        ]
        assert slack.texts("critical") == slack.texts("alerts") == []
        assert pagerduty.events == []
        assert smtp.received == []
    finally:
        cleanup(es, h)


def test_a_dead_channel_delays_no_other(
    critical: Harness, slack: SlackServer, pagerduty: PagerDutyServer, smtp: SmtpServer
) -> None:
    """PagerDuty hangs past its timeout: Slack has the alert within a second, while the
    PagerDuty send is still running; PagerDuty gets it once when it answers again."""
    # Hangs past the end of the test: a request it would process after the watcher gave up on it
    # (a 10 s hang landed after the resolve on a slow run) is not part of what is checked here.
    pagerduty.delay_s = 120.0
    watcher = critical.new_watcher()
    critical.run(30)  # before the incident: nothing to send
    critical.clock.advance(10)
    started = time.monotonic()
    cycle = threading.Thread(target=watcher.run_once)
    cycle.start()
    while not slack.texts("critical") and time.monotonic() - started < 10:
        time.sleep(0.02)
    slack_after_s = time.monotonic() - started
    assert slack_after_s < 2.0
    assert cycle.is_alive() or pagerduty.events == []  # PagerDuty still trying
    cycle.join()
    pagerduty.delay_s = 0.0
    critical.run(500)
    watcher.finish(30)
    _assert_once_everywhere(slack, pagerduty, smtp)


def test_a_failing_channel_is_reported_once_on_the_others(
    critical: Harness, slack: SlackServer, pagerduty: PagerDutyServer, smtp: SmtpServer
) -> None:
    """PagerDuty answering 500 for a minute: one "watcher degraded" on Slack and email (not on
    PagerDuty), one "recovered" after; the alert itself reaches PagerDuty once, late."""
    pagerduty.fail_next(500, times=10_000)
    critical.new_watcher()
    critical.run(100)
    degraded = [t for t in slack.texts("critical") if "Watcher degraded" in t]
    assert len(degraded) == 1
    assert "channel pagerduty: HTTP 500" in degraded[0]
    assert sum("Watcher degraded" in str(m.message["Subject"]) for m in smtp.received) == 1
    assert pagerduty.events == []
    pagerduty.answer_normally()
    critical.run(700)
    assert sum("Watcher recovered" in t for t in slack.texts("critical")) == 1
    assert [e["event_action"] for e in pagerduty.events] == ["trigger", "resolve"]
    assert messages(slack, RULE, "critical") == ONCE


def test_pagerduty_429_retry_after_is_honoured_by_the_ledger(
    critical: Harness, slack: SlackServer, pagerduty: PagerDutyServer, smtp: SmtpServer
) -> None:
    """A Retry-After of 60 s (beyond the in-call cap of 30 s): the trigger waits in the ledger
    for 60 s of watcher time, then goes once; Slack and email are not held up."""
    pagerduty.fail_next(429, retry_after=60)
    critical.new_watcher()
    critical.run(45)  # the incident's first cycles: Slack and email sent, PagerDuty told to wait
    assert messages(slack, RULE, "critical") == ONCE[:1]
    assert len(smtp.received) == 1
    assert pagerduty.events == []
    assert pagerduty.attempts == 1
    critical.run(90)  # less than 60 s after the 429: still waiting
    assert pagerduty.attempts == 1
    critical.run(110)  # 60 s after it
    assert [e["event_action"] for e in pagerduty.events] == ["trigger"]
    assert pagerduty.attempts == 2
    critical.run(400)
    _assert_once_everywhere(slack, pagerduty, smtp)


def test_a_malformed_state_document_is_set_aside_and_reported(
    es: Elasticsearch,
    critical: Harness,
    slack: SlackServer,
    pagerduty: PagerDutyServer,
    smtp: SmtpServer,
) -> None:
    """A hand-edited alert document: copied to the quarantine index, reported once, the alert
    starts afresh and fires and resolves as usual."""
    index = critical.settings.state_index
    es.indices.create(index=index)
    doc_id = alert_id(RULE, MODEL)
    es.index(index=index, id=doc_id, document={"kind": "alert", "rule": RULE, "status": "??"})
    critical.new_watcher()
    try:
        critical.run(400)
        _assert_once_everywhere(slack, pagerduty, smtp)
        notices = [t for t in slack.texts("critical") if "Watcher degraded" in t]
        assert len(notices) == 1
        assert f"state {doc_id}: malformed document set aside" in notices[0]
        es.indices.refresh(index=f"{index}-quarantine")
        hits = es.search(index=f"{index}-quarantine")["hits"]["hits"]
        assert [json.loads(h["_source"]["source"])["status"] for h in hits] == ["??"]
    finally:
        es.indices.delete(index=f"{index}-quarantine", ignore_unavailable=True)

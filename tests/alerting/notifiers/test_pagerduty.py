"""PagerDuty Events API v2: trigger and resolve one incident by its dedup key, bounded retries."""

from __future__ import annotations

import time

from pydantic import SecretStr

from alerting.notifiers.pagerduty import SUMMARY_MAX, PagerDutyNotifier, summary_text
from tests.alerting.pagerduty_server import ROUTING_KEY, PagerDutyServer
from tests.alerting.samples import HOSTILE, hostile, message


def _notifier(server: PagerDutyServer, key: str = ROUTING_KEY, **over: float) -> PagerDutyNotifier:
    options = {"timeout_s": 5, "max_retries": 2, "max_retry_after_s": 5.0} | over
    return PagerDutyNotifier(
        SecretStr(key),
        url=server.url,
        ca_cert=server.cert_file,
        timeout_s=int(options["timeout_s"]),
        max_retries=int(options["max_retries"]),
        max_retry_after_s=options["max_retry_after_s"],
    )


def test_fired_triggers_and_resolved_resolves_the_same_incident(pagerduty: PagerDutyServer) -> None:
    """One dedup key from fired to resolved: PagerDuty closes its incident by itself."""
    notifier = _notifier(pagerduty)
    assert notifier.send(message("fired")).ok
    assert notifier.send(message("resolved")).ok
    trigger, resolve = pagerduty.events
    assert trigger["event_action"] == "trigger"
    assert resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] == resolve["dedup_key"]
    assert trigger["routing_key"] == ROUTING_KEY
    payload = trigger["payload"]
    assert payload["severity"] == "critical"
    assert payload["source"] == "amf1-service"
    assert payload["summary"].startswith("FIRED CRITICAL: Model load failure [stage2-race-winner]")
    assert payload["custom_details"]["example"]["error"] == "FileNotFoundError"
    assert {"href": "https://runbooks.example/rb/model-load-failure.md", "text": "Runbook"} in (
        trigger["links"]
    )


def test_another_incident_of_the_same_alert_has_another_key(pagerduty: PagerDutyServer) -> None:
    """Keys are per incident (rule, group, fired at), not per rule."""
    one, other = message(group="a"), message(group="b")
    assert one.incident_key != other.incident_key


def test_summary_is_plain_text_cut_to_1024_characters(pagerduty: PagerDutyServer) -> None:
    """Markup stays as the characters it is; a long summary is cut to PagerDuty's limit."""
    long = message(group="x" * 2000)
    assert len(summary_text(long)) == SUMMARY_MAX
    assert _notifier(pagerduty).send(long).ok
    assert len(pagerduty.events[0]["payload"]["summary"]) == SUMMARY_MAX
    assert _notifier(pagerduty).send(hostile()).ok
    summary = pagerduty.events[1]["payload"]["summary"]
    assert HOSTILE in summary  # plain text: PagerDuty renders no markup in a summary


def test_invalid_event_400_is_a_failure_not_retried(pagerduty: PagerDutyServer) -> None:
    """A 400 (here: a routing key PagerDuty refuses) fails at once; the ledger retries later."""
    result = _notifier(pagerduty, key="short").send(message())
    assert not result.ok
    assert result.status == 400
    assert pagerduty.attempts == 1
    assert result.error == "HTTP 400"


def test_429_with_short_retry_after_is_waited_out(pagerduty: PagerDutyServer) -> None:
    """429 + Retry-After: 1 then 202: sent once, after about a second."""
    pagerduty.fail_next(429, retry_after=1)
    started = time.monotonic()
    assert _notifier(pagerduty).send(message()).ok
    assert time.monotonic() - started >= 1.0
    assert pagerduty.attempts == 2
    assert len(pagerduty.events) == 1


def test_429_with_long_retry_after_returns_the_wait(pagerduty: PagerDutyServer) -> None:
    """A Retry-After beyond the cap is not slept: the ledger waits it out."""
    pagerduty.fail_next(429, retry_after=120)
    started = time.monotonic()
    result = _notifier(pagerduty).send(message())
    assert time.monotonic() - started < 1.0
    assert not result.ok
    assert result.retry_after_s == 120
    assert pagerduty.attempts == 1


def test_server_errors_are_retried_a_bounded_number_of_times(pagerduty: PagerDutyServer) -> None:
    """500 three times with two retries: three attempts, then a failure."""
    pagerduty.fail_next(500, times=3)
    result = _notifier(pagerduty).send(message())
    assert not result.ok
    assert result.status == 500
    assert pagerduty.attempts == 3


def test_connection_refused_is_a_result(pagerduty: PagerDutyServer) -> None:
    """PagerDuty unreachable: a failure naming the error type, nothing raised."""
    notifier = _notifier(pagerduty, max_retries=0)
    pagerduty.stop()
    result = notifier.send(message())
    assert not result.ok
    assert result.error is not None
    assert result.error.startswith("connection failed")


def test_a_slow_endpoint_is_cut_by_the_timeout(pagerduty: PagerDutyServer) -> None:
    """Every call has a timeout: a server that does not answer costs at most that."""
    pagerduty.delay_s = 3
    started = time.monotonic()
    result = _notifier(pagerduty, timeout_s=1, max_retries=0).send(message())
    assert not result.ok
    assert time.monotonic() - started < 2.5

"""Slack delivery through slack-sdk's webhook client: retries bounded, secrets never logged."""

from __future__ import annotations

import logging

import pytest
from pydantic import SecretStr

from alerting.notify import SlackNotifier
from tests.alerting.slack_server import SlackServer


def _notifier(slack: SlackServer, max_retry_after_s: float = 5) -> SlackNotifier:
    return SlackNotifier(
        {"critical": SecretStr(slack.url("critical")), "alerts": SecretStr(slack.url("alerts"))},
        timeout_s=5,
        max_retries=2,
        max_retry_after_s=max_retry_after_s,
    )


def test_delivers_to_the_channel_webhook(slack: SlackServer) -> None:
    """A message posted to the critical channel arrives at the critical webhook only."""
    assert _notifier(slack).send("critical", {"text": "hello"}).ok
    assert slack.texts("critical") == ["hello"]
    assert slack.texts("alerts") == []


def test_rate_limit_with_retry_after_then_ok_is_delivered_once(slack: SlackServer) -> None:
    """429 with Retry-After: 1, then 200: slack-sdk waits and the message arrives once."""
    slack.fail_next(429, retry_after=1)
    assert _notifier(slack).send("alerts", {"text": "once"}).ok
    assert slack.texts() == ["once"]
    assert slack.attempts == 2


def test_long_retry_after_is_not_slept(slack: SlackServer) -> None:
    """A Retry-After beyond the cap returns at once with the wait, for a later attempt."""
    slack.fail_next(429, retry_after=120)
    result = _notifier(slack, max_retry_after_s=5).send("alerts", {"text": "later"})
    assert not result.ok
    assert result.retry_after_s == 120
    assert slack.attempts == 1


def test_server_errors_are_retried_a_bounded_number_of_times(slack: SlackServer) -> None:
    """500 three times: two retries, then a failure reported (never an endless loop)."""
    slack.fail_next(500, times=3)
    result = _notifier(slack).send("alerts", {"text": "x"})
    assert not result.ok
    assert result.status == 500
    assert slack.attempts == 3


def test_connection_refused_is_a_result_not_an_exception(slack: SlackServer) -> None:
    """Slack unreachable: the notifier reports a failure and raises nothing."""
    notifier = _notifier(slack)
    slack.stop()
    result = notifier.send("critical", {"text": "x"})
    assert not result.ok
    assert result.error is not None
    assert "secret" not in result.error


def test_webhook_url_never_logged(slack: SlackServer, caplog: pytest.LogCaptureFixture) -> None:
    """The webhook URL (a secret) appears in no log record, even while retrying."""
    caplog.set_level(logging.DEBUG)
    notifier = _notifier(slack)
    slack.fail_next(500, times=1)
    notifier.send("critical", {"text": "x"})
    slack.stop()
    notifier.send("critical", {"text": "y"})
    assert "secret-critical" not in caplog.text

"""Slack through slack-sdk's webhook client: retries bounded, secrets never logged, text escaped."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from pydantic import SecretStr

from alerting.notifiers.slack import SlackNotifier, escape, render
from tests.alerting.samples import HOSTILE, hostile, message
from tests.alerting.slack_server import SlackServer


def _notifier(
    slack: SlackServer, channel: str = "critical", max_retry_after_s: float = 5
) -> SlackNotifier:
    return SlackNotifier(
        f"slack-{channel}",
        SecretStr(slack.url(channel)),
        timeout_s=5,
        max_retries=2,
        max_retry_after_s=max_retry_after_s,
    )


def _texts(payload: dict[str, Any]) -> list[str]:
    """Every string of a Block Kit payload (text fields, block texts, context elements)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(payload)
    return found


def test_delivers_to_the_channel_webhook(slack: SlackServer) -> None:
    """A message for the critical channel arrives at the critical webhook only."""
    assert _notifier(slack).send(message()).ok
    assert len(slack.texts("critical")) == 1
    assert slack.texts("alerts") == []


def test_message_states_value_threshold_window_count_example_and_links() -> None:
    """Everything an on-call engineer needs before clicking anything."""
    text = json.dumps(render(message()), ensure_ascii=False)
    assert "FIRED CRITICAL: Model load failure [stage2-race-winner]" in text
    assert "*Value* 1 (threshold &gt; 0)" in text
    assert "*Count* 1" in text
    assert "2026-03-01T11:55:00.000Z → 2026-03-01T12:00:00.000Z" in text
    assert "Example: model stage2-race-winner, error FileNotFoundError" in text
    assert "<http://jaeger:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736|Jaeger trace>" in text
    assert "Trace: `amf1 trace 4bf92f3577b34da6a3ce929d0e0e4736`" in text
    assert "<https://runbooks.example/rb/model-load-failure.md|Runbook>" in text


def test_text_fallback_keeps_the_parsable_summary() -> None:
    """The notification text: kind, severity, title, group, value and the rule id at the end."""
    text = render(message())["text"]
    assert re.search(r"FIRED CRITICAL: Model load failure \[stage2-race-winner\] — 1 ", text)
    assert text.endswith("[rule model-load-failure]")


def test_escape_turns_the_three_control_characters_into_entities() -> None:
    """`&` first, then `<` and `>`: Slack's escaping, nothing else touched."""
    assert escape("<!channel> & <http://x|text>") == "&lt;!channel&gt; &amp; &lt;http://x|text&gt;"
    assert escape("*bold* `code`") == "*bold* `code`"


def test_event_text_can_neither_mention_nor_link_nor_format() -> None:
    """Markup in the group, error and trace id reaches no text field of the payload unescaped."""
    payload = render(hostile())
    texts = _texts(payload)
    joined = "\n".join(texts)
    for raw in ("<!channel>", "<!here>", "<@U123>", "<http://x|text>", "<script>"):
        assert raw not in joined
    assert "&lt;!channel&gt;" in joined
    assert "&amp;" in joined
    # The top-level text is not parsed as mrkdwn, the event sits in a plain_text block.
    assert payload["mrkdwn"] is False
    [example] = [b for b in payload["blocks"] if "Example" in json.dumps(b)]
    assert example["text"]["type"] == "plain_text"
    # The trace id is quoted whole into the URL: it cannot close the link or add a label.
    assert "/trace/abc%7C%3C%21channel%3E%3E|Jaeger trace>" in joined
    assert "Trace: `amf1 trace abc|&lt;!channel&gt;&gt;`" in joined


def test_header_is_cut_to_slacks_limit_without_splitting_an_entity() -> None:
    """A long hostile group still gives a header of at most 150 characters, entities whole."""
    payload = render(message(group="<" * 300))
    header = payload["blocks"][0]["text"]["text"]
    assert len(header) <= 150
    assert "&" not in re.sub("&lt;|&gt;|&amp;", "", header)
    assert header.endswith("&lt;")


def test_hostile_message_is_accepted_and_arrives_escaped(slack: SlackServer) -> None:
    """Through the real HTTP path: what the webhook receives is the escaped text."""
    assert _notifier(slack).send(hostile()).ok
    body = json.dumps(slack.received[0].body)
    assert HOSTILE not in body
    assert "<!channel>" not in body


def test_rate_limit_with_retry_after_then_ok_is_delivered_once(slack: SlackServer) -> None:
    """429 with Retry-After: 1, then 200: slack-sdk waits and the message arrives once."""
    slack.fail_next(429, retry_after=1)
    assert _notifier(slack, "alerts").send(message()).ok
    assert len(slack.texts()) == 1
    assert slack.attempts == 2


def test_long_retry_after_is_not_slept(slack: SlackServer) -> None:
    """A Retry-After beyond the cap returns at once with the wait, for a later attempt."""
    slack.fail_next(429, retry_after=120)
    result = _notifier(slack, "alerts", max_retry_after_s=5).send(message())
    assert not result.ok
    assert result.retry_after_s == 120
    assert slack.attempts == 1


def test_server_errors_are_retried_a_bounded_number_of_times(slack: SlackServer) -> None:
    """500 three times: two retries, then a failure reported (never an endless loop)."""
    slack.fail_next(500, times=3)
    result = _notifier(slack, "alerts").send(message())
    assert not result.ok
    assert result.status == 500
    assert slack.attempts == 3


def test_connection_refused_is_a_result_not_an_exception(slack: SlackServer) -> None:
    """Slack unreachable: the notifier reports a failure and raises nothing."""
    notifier = _notifier(slack)
    slack.stop()
    result = notifier.send(message())
    assert not result.ok
    assert result.error is not None
    assert "secret" not in result.error


def test_a_url_without_scheme_is_a_result_not_an_exception() -> None:
    """A webhook typed without https:// fails the send (the settings refuse it first)."""
    notifier = SlackNotifier(
        "slack-alerts",
        SecretStr("hooks.slack.com/services/T0/B0/secret-typo"),
        timeout_s=1,
        max_retries=0,
        max_retry_after_s=0,
    )
    result = notifier.send(message())
    assert not result.ok
    assert result.error is not None
    assert "secret-typo" not in result.error


def test_webhook_url_never_logged(slack: SlackServer, caplog: pytest.LogCaptureFixture) -> None:
    """The webhook URL (a secret) appears in no log record, even while retrying."""
    caplog.set_level(logging.DEBUG)
    notifier = _notifier(slack)
    slack.fail_next(500, times=1)
    notifier.send(message())
    slack.stop()
    notifier.send(message())
    assert "secret-critical" not in caplog.text

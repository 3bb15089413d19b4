"""Slack, one incoming webhook per channel, through slack-sdk's `WebhookClient` and its retries.

Retries are bounded: connection errors and 500/503 a few times with backoff, 429 honouring
`Retry-After` up to `max_retry_after_s` (a longer wait is not slept: the message stays pending in
state and is tried again when the wait is over, so one rate limit never stalls the watcher). The
webhook URL is a secret: slack-sdk logs it in its retry messages, so its logger is silenced.

Rendering: every text taken from the message is escaped (`&`, `<`, `>` as Slack asks), the
top-level text is sent with `mrkdwn: false` and the example event in a `plain_text` block, so an
event can neither mention (`<!channel>`), link (`<http://x|text>`) nor format.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.error import URLError

from pydantic import SecretStr
from slack_sdk.errors import SlackRequestError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

from alerting.content import AlertMessage
from alerting.notifiers.base import Notifier, SendResult, retry_after

_SILENT = logging.getLogger("amf1.alerting.slack-sdk")
_SILENT.propagate = False
_SILENT.addHandler(logging.NullHandler())
_SILENT.setLevel(logging.CRITICAL + 1)

_ICON = {
    "fired": ":rotating_light:",
    "escalated": ":fire:",
    "repeat": ":repeat:",
    "resolved": ":white_check_mark:",
    "degraded": ":warning:",
    "recovered": ":white_check_mark:",
}
_HEADER_MAX = 150  # Slack's limit on a header block's text
_SECTION_MAX = 3000  # ... and on a section's


def escape(text: str) -> str:
    """Slack's escaping of the three control characters (`&` first)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escaped_within(text: str, limit: int) -> str:
    """`escape(text)`, the text shortened until the escaped form fits (no entity cut in half)."""
    escaped = escape(text)
    while len(escaped) > limit:
        # An escaped character is at most 5 long (`&amp;`): cutting excess/5 never cuts too much.
        text = text[: len(text) - max(1, (len(escaped) - limit) // 5)]
        escaped = escape(text)
    return escaped


def render(message: AlertMessage) -> dict[str, Any]:
    """The webhook body: escaped fallback text plus Block Kit sections."""
    icon = _ICON[message.kind]
    text = escape(f"{icon} {message.summary} [rule {message.rule}]")
    if message.kind in ("degraded", "recovered"):
        return {"text": text, "mrkdwn": False}
    facts = " · ".join(f"*{escape(f.label)}* {escape(f.value)}" for f in message.facts)
    links = [f"<{escape(link.url)}|{escape(link.label)}>" for link in message.links]
    if message.trace_command:
        # In code (no formatting); a backtick from the event could close it, so none is kept.
        links.append(f"Trace: `{escape(message.trace_command.replace('`', ''))}`")
    if not any(link.label == "Runbook" for link in message.links):
        links.append(f"Runbook: `{escape(message.runbook)}`")
    example = ", ".join(f"{f.label} {f.value}" for f in message.example)
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _escaped_within(f"{icon} {message.headline}", _HEADER_MAX),
            },
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{facts}\n{' · '.join(links)}"}},
        {
            "type": "section",
            "text": {
                "type": "plain_text",
                "text": _escaped_within(f"Example: {example or 'no example event'}", _SECTION_MAX),
                "emoji": False,
            },
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"rule `{message.rule}`"}]},
    ]
    return {"text": text, "mrkdwn": False, "blocks": blocks}


class CappedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """Retry a 429 after its Retry-After, unless the wait is longer than `max_wait_s`."""

    def __init__(self, max_retry_count: int, max_wait_s: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self._max_wait_s = max_wait_s

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after(dict(response.headers))
        return wait is None or wait <= self._max_wait_s


class SlackNotifier(Notifier):
    """Posts messages to one Slack channel's incoming webhook."""

    def __init__(
        self,
        channel: str,
        webhook: SecretStr,
        *,
        timeout_s: int,
        max_retries: int,
        max_retry_after_s: float,
    ) -> None:
        self.channel = channel
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._max_retry_after_s = max_retry_after_s
        handlers: list[RetryHandler] = [
            ConnectionErrorRetryHandler(max_retry_count=max_retries),
            ServerErrorRetryHandler(max_retry_count=max_retries),
            CappedRateLimitRetryHandler(max_retries, max_retry_after_s),
        ]
        self._client = WebhookClient(
            webhook.get_secret_value(), timeout=timeout_s, logger=_SILENT, retry_handlers=handlers
        )

    @staticmethod
    def longest(timeout_s: float, max_retries: int, max_retry_after_s: float) -> float:
        """Every attempt timing out or waiting out Retry-After, plus slack-sdk's backoff."""
        return (max_retries + 1) * (timeout_s + max_retry_after_s + 2)

    @property
    def longest_send_s(self) -> float:
        return self.longest(self._timeout_s, self._max_retries, self._max_retry_after_s)

    def send(self, message: AlertMessage) -> SendResult:
        return self.send_payload(render(message))

    def send_payload(self, payload: dict[str, Any]) -> SendResult:
        """Post a rendered body once (with slack-sdk's bounded retries); never raises."""
        try:
            response = self._client.send_dict(payload)
        except (URLError, OSError, ValueError, SlackRequestError) as exc:
            # The last two: a URL slack-sdk or urllib cannot open; their messages quote it.
            reason = getattr(exc, "reason", exc)
            return SendResult(ok=False, error=f"connection failed: {type(reason).__name__}")
        if response.status_code == 200:
            return SendResult(ok=True, status=200)
        return SendResult(
            ok=False,
            status=response.status_code,
            retry_after_s=retry_after(dict(response.headers)),
            error=f"HTTP {response.status_code}",
        )

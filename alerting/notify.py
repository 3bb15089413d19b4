"""Slack delivery through slack-sdk's `WebhookClient` and its retry handlers.

Retries are bounded: connection errors and 500/503 a few times with backoff, 429 honouring
`Retry-After` up to `max_retry_after_s` (a longer wait is not slept: the message stays pending in
state and is tried again when the wait is over, so one rate limit never stalls the watcher). The
webhook URL is a secret: slack-sdk logs it in its retry messages, so its logger is silenced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

from pydantic import SecretStr
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

_SILENT = logging.getLogger("amf1.alerting.slack-sdk")
_SILENT.propagate = False
_SILENT.addHandler(logging.NullHandler())
_SILENT.setLevel(logging.CRITICAL + 1)


@dataclass(frozen=True, slots=True)
class SendResult:
    """Outcome of one delivery attempt (after slack-sdk's own bounded retries)."""

    ok: bool
    status: int | None = None
    retry_after_s: float | None = None
    error: str | None = None


def _retry_after(headers: dict[str, Any]) -> float | None:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return None
    return None


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
        wait = _retry_after(dict(response.headers))
        return wait is None or wait <= self._max_wait_s


class SlackNotifier:
    """Posts payloads to the webhook of a channel ("critical" or "alerts")."""

    def __init__(
        self,
        webhooks: dict[str, SecretStr | None],
        timeout_s: int,
        max_retries: int,
        max_retry_after_s: float,
    ) -> None:
        handlers: list[RetryHandler] = [
            ConnectionErrorRetryHandler(max_retry_count=max_retries),
            ServerErrorRetryHandler(max_retry_count=max_retries),
            CappedRateLimitRetryHandler(max_retries, max_retry_after_s),
        ]
        self._clients = {
            channel: WebhookClient(
                url.get_secret_value(), timeout=timeout_s, logger=_SILENT, retry_handlers=handlers
            )
            for channel, url in webhooks.items()
            if url is not None
        }

    def configured(self, channel: str) -> bool:
        return channel in self._clients

    def send(self, channel: str, payload: dict[str, Any]) -> SendResult:
        """Post once (with slack-sdk's bounded retries); never raises for network trouble."""
        client = self._clients.get(channel)
        if client is None:
            return SendResult(ok=False, error=f"no webhook configured for channel {channel!r}")
        try:
            response = client.send_dict(payload)
        except (URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return SendResult(ok=False, error=f"connection failed: {type(reason).__name__}")
        if response.status_code == 200:
            return SendResult(ok=True, status=200)
        return SendResult(
            ok=False,
            status=response.status_code,
            retry_after_s=_retry_after(dict(response.headers)),
            error=f"HTTP {response.status_code}",
        )

"""PagerDuty Events API v2 through PagerDuty's own client (`pagerduty.EventsApiV2Client`).

An incident's messages share one `dedup_key` (`AlertMessage.incident_key`): "fired" and
"escalated" (and "repeat") trigger, "resolved" resolves, so PagerDuty opens one incident and
closes it by itself. The summary is plain text cut to PagerDuty's 1024 characters; facts and the
example event go as `custom_details` data, links as `links`.

The client's own retries are switched off (its 429 handling retries without end and ignores
`Retry-After`; its 5xx backoff can take minutes): this notifier retries a bounded number of times,
waits out a short `Retry-After`, and returns a longer one for the ledger to honour. The routing
key travels in the request body; no error text of the client (which may quote the response) is
kept.
"""

from __future__ import annotations

import logging
import ssl
import time
from pathlib import Path
from typing import Any

import httpx2
from pagerduty import EventsApiV2Client
from pagerduty.errors import Error, HttpError
from pydantic import SecretStr

from alerting.content import AlertMessage
from alerting.notifiers.base import Notifier, SendResult, retry_after

# The client logs every retry and give-up at warning/error level; this notifier reports its own.
_SILENT = logging.getLogger("amf1.alerting.pagerduty")
_SILENT.propagate = False
_SILENT.addHandler(logging.NullHandler())
_SILENT.setLevel(logging.CRITICAL + 1)
SUMMARY_MAX = 1024  # Events API v2 limit on payload.summary
_BACKOFF_S = 0.5


def summary_text(message: AlertMessage) -> str:
    """The incident's summary: plain text, at most 1024 characters."""
    text = f"{message.summary} [rule {message.rule}]"
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def event_body(message: AlertMessage) -> dict[str, Any]:
    """Keyword arguments of `send_event` (besides action and dedup key) for a trigger."""
    details: dict[str, Any] = {"rule": message.rule, "kind": message.kind}
    details.update({fact.label.lower(): fact.value for fact in message.facts})
    if message.example:
        details["example"] = {fact.label: fact.value for fact in message.example}
    details["runbook"] = message.runbook
    if message.trace_command:
        details["trace"] = message.trace_command
    return {
        "payload": {
            "summary": summary_text(message),
            "source": message.source,
            "severity": message.severity,
            "component": message.rule,
            "custom_details": details,
        },
        "links": [{"href": link.url, "text": link.label} for link in message.links],
    }


class PagerDutyNotifier(Notifier):
    """Triggers and resolves PagerDuty incidents through one Events API v2 integration."""

    channel = "pagerduty"

    def __init__(
        self,
        routing_key: SecretStr,
        *,
        url: str,
        ca_cert: Path | None,
        timeout_s: int,
        max_retries: int,
        max_retry_after_s: float,
    ) -> None:
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._max_retry_after_s = max_retry_after_s
        # The client takes https:// base URLs only, and verifies them (our CA file, else the
        # system's).
        verify = ssl.create_default_context(cafile=str(ca_cert) if ca_cert else None)
        client = EventsApiV2Client(
            routing_key.get_secret_value(), base_url=url.rstrip("/"), verify=verify
        )
        client.timeout = timeout_s
        client.log = _SILENT
        client.max_network_attempts = 0  # a network error raises at once; retried below
        # A 429 is returned at once (retry[429] > 0 with the attempt budget already spent): the
        # client would otherwise retry it without end, ignoring Retry-After.
        client.retry = {429: 1}
        client.max_http_attempts = -1
        self._client = client

    @staticmethod
    def longest(timeout_s: float, max_retries: int, max_retry_after_s: float) -> float:
        """Every attempt timing out or waiting out Retry-After, plus the backoff."""
        return (max_retries + 1) * (timeout_s + max_retry_after_s + 2)

    @property
    def longest_send_s(self) -> float:
        return self.longest(self._timeout_s, self._max_retries, self._max_retry_after_s)

    def send(self, message: AlertMessage) -> SendResult:
        result = SendResult(ok=False, error="not sent")
        for attempt in range(self._max_retries + 1):
            result = self._send_once(message)
            if result.ok or attempt == self._max_retries:
                return result
            if result.status == 429:
                wait_s = _BACKOFF_S if result.retry_after_s is None else result.retry_after_s
                if wait_s > self._max_retry_after_s:
                    return result  # the ledger waits it out
                time.sleep(wait_s)
            elif result.status is None or result.status >= 500:
                time.sleep(_BACKOFF_S * 2**attempt)
            else:
                return result  # 4xx: the same event would be refused again now
        return result

    def _send_once(self, message: AlertMessage) -> SendResult:
        try:
            if message.resolves:
                self._client.send_event("resolve", dedup_key=message.incident_key)
            else:
                self._client.send_event(
                    "trigger", dedup_key=message.incident_key, **event_body(message)
                )
        except HttpError as exc:
            response = exc.response
            if response is None:
                return SendResult(ok=False, error="no response")
            return SendResult(
                ok=False,
                status=response.status_code,
                retry_after_s=retry_after(dict(response.headers)),
                error=f"HTTP {response.status_code}",
            )
        except (Error, httpx2.HTTPError, OSError) as exc:
            cause = exc.__cause__ or exc
            return SendResult(ok=False, error=f"connection failed: {type(cause).__name__}")
        return SendResult(ok=True, status=202)

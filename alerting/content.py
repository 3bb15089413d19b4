"""What an alert message says, as data: every channel renders it in its own format.

The text fields hold plain text (event values included, as logged); no field holds markup. Each
notifier escapes them for its medium (Slack's `&`, `<`, `>`; HTML in email; plain text and a
length limit for PagerDuty), so no event can mention, link or format anything.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from alerting.rules import Severity

MessageKind = Literal["fired", "escalated", "repeat", "resolved", "degraded", "recovered"]
WATCHER_RULE = "watcher-degraded"


class Fact(BaseModel):
    """One labelled value (the label is ours, the value may come from an event)."""

    model_config = ConfigDict(frozen=True)

    label: str
    value: str


class Link(BaseModel):
    """A link the message offers (built by the watcher; event values in it are URL-quoted)."""

    model_config = ConfigDict(frozen=True)

    label: str
    url: str


class AlertMessage(BaseModel):
    """One message about one incident, independent of the channel it goes to.

    Attributes:
        headline: "FIRED CRITICAL: <title> [<group>]" (the group is an event value).
        summary: the headline with value and threshold: one line for notifications.
        facts: value vs threshold, count, window.
        example: fields of one matching event (event values, verbatim).
        links: Kibana Discover, the example's Jaeger trace, the runbook (when it is a URL).
        runbook: the runbook's URL, else its path in the repository.
        trace_command: `amf1 trace <id>` for the example's trace (the id is an event value).
        incident_key: stable for one incident (fired ... resolved): PagerDuty's `dedup_key`.
        source: what the incident is about (PagerDuty's `payload.source`).
    """

    model_config = ConfigDict(frozen=True)

    kind: MessageKind
    severity: Severity
    rule: str
    headline: str
    summary: str
    facts: tuple[Fact, ...] = ()
    example: tuple[Fact, ...] = ()
    links: tuple[Link, ...] = ()
    runbook: str = ""
    trace_command: str | None = None
    incident_key: str
    source: str

    @property
    def resolves(self) -> bool:
        """Whether this message closes its incident (resolved, or the watcher recovered)."""
        return self.kind in ("resolved", "recovered")


def incident_key(rule: str, group: str, fired_at: datetime | None) -> str:
    """`amf1/<rule>/<digest of group>/<fired_at>`: one key per incident, at most ~90 chars."""
    digest = hashlib.sha256(group.encode("utf-8")).hexdigest()[:16]
    started = fired_at.isoformat() if fired_at is not None else "unknown"
    return f"amf1/{rule}/{digest}/{started}"

"""The alert state machine: one pure function from (state, verdict) to (state, deliveries).

ok --breach--> firing (message "fired"); firing --critical while warning--> escalated (the
warning's unsent messages are dropped: a critical suppresses the matching warning); firing and
still breaching after `repeat_after` --> "repeat"; `resolve_after` clean evaluations in a row -->
ok ("resolved"). Evaluations are identified by their window end: a window not later than the
last one applied is ignored, which makes two watchers (or a restart) idempotent.

A message becomes one `Delivery` per channel it is routed to; each is claimed, sent and removed
on its own, so a channel that fails holds up only its own later messages.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from alerting.content import AlertMessage
from alerting.evaluate import Verdict, Window
from alerting.rules import Rule, Severity

Kind = Literal["fired", "escalated", "repeat", "resolved"]


class Delivery(BaseModel):
    """A message waiting to go out on one channel (kept in state until the channel took it)."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    channel: str
    kind: Kind
    severity: Severity
    message: AlertMessage
    created_at: datetime
    attempts: int = 0
    next_attempt_at: datetime
    claimed_by: str | None = None
    claimed_until: datetime | None = None


class AlertState(BaseModel):
    """The stored state of one (rule, group)."""

    rule: str
    group: str
    status: Literal["ok", "firing"] = "ok"
    severity: Severity | None = None
    fired_at: datetime | None = None
    last_notified_at: datetime | None = None
    clean_count: int = 0
    last_window_end: datetime | None = None
    value: float | None = None
    count: int = 0
    channels: list[str] = Field(
        default_factory=list, description="Channels told of the current incident."
    )
    pending: list[Delivery] = Field(default_factory=list)

    @property
    def active(self) -> bool:
        """Whether the watcher must keep visiting this group (firing or messages to send)."""
        return self.status == "firing" or bool(self.pending)


@dataclass(frozen=True, slots=True)
class Transition:
    """What an evaluation changed: the new state and the message kind it calls for (if any)."""

    state: AlertState
    kind: Kind | None
    changed: bool


def advance(
    state: AlertState,
    *,
    verdict: Verdict,
    window: Window,
    rule: Rule,
    repeat_after_s: float,
    resolve_after: int,
) -> Transition:
    """Apply one verdict to a state. Pure: the caller persists and delivers."""
    if state.last_window_end is not None and window.end <= state.last_window_end:
        return Transition(state, None, changed=False)
    new = state.model_copy(deep=True)
    new.last_window_end = window.end
    kind: Kind | None = None
    if verdict.severity is not None:
        new.value, new.count, new.clean_count = verdict.value, verdict.count, 0
        repeat_s = rule.repeat_after if rule.repeat_after is not None else repeat_after_s
        if new.status == "ok":
            new.status, new.severity, new.fired_at = "firing", verdict.severity, window.end
            kind = "fired"
        elif verdict.severity == "critical" and new.severity == "warning":
            new.severity = "critical"
            new.pending = [d for d in new.pending if d.severity != "warning"]
            kind = "escalated"
        elif new.last_notified_at is None or window.end - new.last_notified_at >= timedelta(
            seconds=repeat_s
        ):
            kind = "repeat"
    elif new.status == "firing":
        new.clean_count += 1
        new.value, new.count = verdict.value, verdict.count
        if new.clean_count >= (rule.resolve_after or resolve_after):
            new.status = "ok"
            kind = "resolved"
    if kind is not None:
        new.last_notified_at = window.end
    # A clean group that was ok stays ok: only the window marker moved, not worth a write.
    changed = kind is not None or new.status == "firing" or state.status != new.status
    return Transition(new, kind, changed=changed)


def make_deliveries(
    state: AlertState, kind: Kind, message: AlertMessage, routed: list[str], now: datetime
) -> list[Delivery]:
    """One delivery per channel, due now; records the channels told in `state`.

    `routed` are the channels the state's severity routes to. A resolution goes to every channel
    told of the incident (a warning escalated to critical resolves on both routes).
    """
    severity: Severity = state.severity or "warning"
    if kind == "fired":
        state.channels = list(routed)
    channels = (state.channels or routed) if kind == "resolved" else routed
    state.channels = sorted(set(state.channels) | set(channels))
    return [
        Delivery(
            channel=channel,
            kind=kind,
            severity=severity,
            message=message,
            created_at=now,
            next_attempt_at=now,
        )
        for channel in channels
    ]

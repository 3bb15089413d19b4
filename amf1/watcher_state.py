"""The watcher's alert states as incidents, for the operator tools (`amf1 health | report | demo`).

The states are read through the watcher's own store and model (`alerting.state_store`,
`alerting.state_machine.AlertState`). A resolved alert is back to `ok` with `fired_at` still set
and `last_notified_at` at the resolution. Only the latest incident of each (rule, group) is kept,
so firing -> resolved durations (MTTR) cover those incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from alerting.state_machine import AlertState


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """The latest incident of one (rule, group)."""

    rule: str
    group: str
    state: str
    severity: str | None
    fired_at: datetime | None
    resolved_at: datetime | None
    value: float | None

    @property
    def last_change(self) -> datetime:
        """When the incident last changed state (resolved, else fired)."""
        return self.resolved_at or self.fired_at or datetime.min.replace(tzinfo=UTC)


def record_of(state: AlertState) -> AlertRecord | None:
    """The incident an alert state tells of; None for a group that never fired."""
    if state.fired_at is None:
        return None
    resolved = state.status == "ok"
    return AlertRecord(
        rule=state.rule,
        group=state.group,
        state="resolved" if resolved else state.status,
        severity=state.severity,
        fired_at=state.fired_at,
        resolved_at=state.last_notified_at if resolved else None,
        value=state.value,
    )


def read_alert_records(es: Elasticsearch, index: str) -> list[AlertRecord] | None:
    """Every incident in the state index, newest first; None when the index does not exist.

    Raises:
        alerting.errors.BackendUnavailableError: Elasticsearch cannot be reached or refuses.
    """
    from alerting.state_store import StateStore  # noqa: PLC0415 - heavy import, only when used

    states = StateStore(es, index).read_alerts()
    if states is None:
        return None
    records = [record for record in map(record_of, states) if record is not None]
    return sorted(records, key=lambda r: r.last_change, reverse=True)

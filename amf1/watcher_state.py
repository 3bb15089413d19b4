"""Reading the watcher's alert state index (written by `kibana`'s watcher) for the operator tools.

The watcher keeps one document per (rule, group), `kind: alert`, with `rule`, `group`, `status`
(`ok` | `firing`), `severity`, `fired_at`, `last_notified_at`, `value`, ... at the top level
(`alerting.state_store`, `alerting.state_machine.AlertState`). A resolved
alert is back to `ok` with `fired_at` still set and `last_notified_at` at the resolution. Only
the latest incident of each (rule, group) is kept, so firing -> resolved durations (MTTR) cover
those incidents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

_MAX_STATES = 1000


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


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def record_from_source(source: dict[str, Any]) -> AlertRecord | None:
    """An `AlertRecord` from a state document; None for documents that are not alert states."""
    state = source.get("state") if isinstance(source.get("state"), dict) else source
    if not isinstance(state, dict) or "rule" not in state or "status" not in state:
        return None
    fired_at = _when(state.get("fired_at"))
    if fired_at is None:
        return None  # a group that never fired is not an incident
    status = str(state["status"])
    resolved_at = _when(state.get("last_notified_at")) if status == "ok" else None
    value = state.get("value")
    return AlertRecord(
        rule=str(state["rule"]),
        group=str(state.get("group") or ""),
        state="resolved" if status == "ok" else status,
        severity=state.get("severity"),
        fired_at=fired_at,
        resolved_at=resolved_at,
        value=float(value) if isinstance(value, int | float) else None,
    )


def read_alert_records(es: Elasticsearch, index: str) -> list[AlertRecord] | None:
    """Every incident in the state index, newest first; None when the index does not exist."""
    from elasticsearch import NotFoundError  # noqa: PLC0415 - heavy import, only when used

    try:
        result = es.search(index=index, size=_MAX_STATES, query={"term": {"kind": "alert"}})
    except NotFoundError:
        return None
    records = [record_from_source(hit["_source"]) for hit in result["hits"]["hits"]]
    found = [r for r in records if r is not None]
    return sorted(found, key=lambda r: r.last_change, reverse=True)

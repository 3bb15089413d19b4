"""The last alert of each rule, read from the watcher's state index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alerting.errors import BackendUnavailableError
from amf1.health.checks import Check, Status
from amf1.settings import Settings
from amf1.watcher_state import AlertRecord, read_alert_records

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch


def check_last_alerts(es: Elasticsearch, settings: Settings) -> Check:
    """One line per rule that has ever alerted: its state and when it last fired or resolved.

    A rule firing at critical severity makes the check warn (the service may be fine, but
    someone should be looking); the state index missing means the watcher never ran.
    """
    try:
        records = read_alert_records(es, settings.state_index)
    except BackendUnavailableError as exc:
        return Check("last alerts", "warn", f"cannot read the watcher state: {exc}")
    if records is None:
        return Check("last alerts", "warn", f"no watcher state ({settings.state_index} missing)")
    latest: dict[str, AlertRecord] = {}
    for record in records:
        current = latest.get(record.rule)
        if current is None or record.last_change > current.last_change:
            latest[record.rule] = record
    if not latest:
        return Check("last alerts", "ok", "no alert has fired", {"rules": {}})
    firing = [r for r in latest.values() if r.state == "firing"]
    rules: dict[str, Any] = {
        r.rule: {
            "state": r.state,
            "severity": r.severity,
            "group": r.group,
            "fired_at": r.fired_at,
            "resolved_at": r.resolved_at,
        }
        for r in sorted(latest.values(), key=lambda r: r.rule)
    }
    parts = [
        f"{r.rule}{'/' + r.group if r.group else ''} {r.state} {r.last_change:%Y-%m-%d %H:%M}Z"
        for r in sorted(latest.values(), key=lambda r: r.last_change, reverse=True)
    ]
    status: Status = "warn" if any(r.severity == "critical" for r in firing) else "ok"
    return Check("last alerts", status, "; ".join(parts), {"rules": rules})

"""Send one channel's pending deliveries of an alert, each exactly once across watchers.

A delivery is claimed (an optimistic-concurrency write naming this watcher, valid for
`claim_ttl_s`) before it is sent, and removed after the channel accepted it. A failed send stays
pending with a backoff (or the channel's Retry-After). If Elasticsearch fails between the send
and the removal, the id is remembered in memory so the message is not sent again when it returns.
Each channel has its own `ChannelDeliverer` (and thread, `alerting.dispatch`): deliveries of
other channels in the same document are left alone, and a write that lost to another channel's
(or watcher's) write re-reads and tries again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from alerting.content import AlertMessage
from alerting.errors import StateConflictError
from alerting.notifiers.base import Notifier, SendResult
from alerting.state_machine import AlertState, Delivery
from alerting.state_store import StateStore, Versioned
from logshipping.events import Action, emit

_log = structlog.get_logger("amf1.alerting.deliver")
_MAX_BACKOFF_S = 300.0
_WRITE_ATTEMPTS = 5


def _due(delivery: Delivery, now: datetime) -> bool:
    unclaimed = delivery.claimed_until is None or delivery.claimed_until <= now
    return delivery.next_attempt_at <= now and unclaimed


class ChannelDeliverer:
    """Works through one channel's pending deliveries of an alert, oldest first."""

    def __init__(
        self, store: StateStore, notifier: Notifier, instance: str, claim_ttl_s: float
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._instance = instance
        self._claim_ttl = timedelta(seconds=claim_ttl_s)
        self._sent_not_recorded: set[str] = set()
        self.sent_count = 0

    @property
    def channel(self) -> str:
        return self._notifier.channel

    def send_direct(self, message: AlertMessage) -> SendResult:
        """Send a message kept outside the ledger (the watcher's own); never raises."""
        result = self._notifier.send(message)
        self.sent_count += result.ok
        if not result.ok:
            fields = {
                "amf1.alert.rule": message.rule,
                "amf1.alert.group": message.source,
                "amf1.alert.severity": message.severity,
                "amf1.alert.channel": self.channel,
                "error.message": result.error,
            }
            emit(Action.ALERT_DELIVERY_FAILED, f"{self.channel} delivery failed", fields)
        return result

    def deliver(self, rule: str, group: str, now: datetime) -> SendResult | None:
        """Send what is due for (rule, group) on this channel, in order.

        Returns the failed attempt that stopped it (later messages wait, to keep the order), or
        None when nothing failed.

        Raises:
            BackendUnavailableError: Elasticsearch (the ledger) cannot be read or written.
        """
        current = self._store.get_alert(rule, group)
        for _ in range(len(current.doc.pending) + _WRITE_ATTEMPTS):
            mine = [d for d in current.doc.pending if d.channel == self.channel]
            if not mine:
                return None
            delivery = mine[0]
            if delivery.id in self._sent_not_recorded:
                current = self._record(current, delivery.id, SendResult(ok=True), now)
                continue
            claimed = self._claim(current, delivery.id, now)
            if claimed is None:
                return None  # not due, or another watcher holds it
            result = self._notifier.send(delivery.message)
            self._report(rule, group, delivery, result)
            current = self._record(claimed, delivery.id, result, now)
            if not result.ok:
                return result
        return None

    def _report(self, rule: str, group: str, delivery: Delivery, result: SendResult) -> None:
        fields: dict[str, str | None] = {
            "amf1.alert.rule": rule,
            "amf1.alert.group": group,
            "amf1.alert.severity": delivery.severity,
            "amf1.alert.channel": self.channel,
        }
        if result.ok:
            self.sent_count += 1
            self._sent_not_recorded.add(delivery.id)
            _log.info(f"alert {delivery.kind} message delivered", **fields)
        else:
            fields["error.message"] = result.error
            emit(Action.ALERT_DELIVERY_FAILED, f"{self.channel} delivery failed", fields)

    def _claim(
        self, current: Versioned[AlertState], delivery_id: str, now: datetime
    ) -> Versioned[AlertState] | None:
        for _ in range(_WRITE_ATTEMPTS):
            doc = current.doc.model_copy(deep=True)
            delivery = next((d for d in doc.pending if d.id == delivery_id), None)
            if delivery is None or not _due(delivery, now):
                return None
            delivery.claimed_by = self._instance
            delivery.claimed_until = now + self._claim_ttl
            try:
                return self._store.put_alert(current, doc)
            except StateConflictError:
                current = self._store.get_alert(doc.rule, doc.group)
        return None

    def _record(
        self,
        current: Versioned[AlertState],
        delivery_id: str,
        result: SendResult,
        now: datetime,
    ) -> Versioned[AlertState]:
        """Remove a sent delivery, or release a failed one with its next attempt time."""
        for _ in range(_WRITE_ATTEMPTS):
            doc = current.doc.model_copy(deep=True)
            if result.ok:
                doc.pending = [d for d in doc.pending if d.id != delivery_id]
            else:
                for delivery in doc.pending:
                    if delivery.id == delivery_id:
                        delivery.attempts += 1
                        wait = result.retry_after_s or min(2.0**delivery.attempts, _MAX_BACKOFF_S)
                        delivery.next_attempt_at = now + timedelta(seconds=wait)
                        delivery.claimed_by = delivery.claimed_until = None
            try:
                stored = self._store.put_alert(current, doc)
            except StateConflictError:
                current = self._store.get_alert(doc.rule, doc.group)
                continue
            self._sent_not_recorded.discard(delivery_id)
            return stored
        return current

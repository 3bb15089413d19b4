"""Deliveries run on one worker thread per channel, so a slow or dead channel delays no other.

Each cycle the watcher hands every channel its work: the watcher's own messages (kept in memory)
and the (rule, group) documents with deliveries pending on that channel. A channel still busy
with earlier work is skipped (its deliveries stay in the ledger for the next cycle). The watcher
waits for the cycle's work at most `wait_s`; work that takes longer is collected next cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from alerting.content import AlertMessage
from alerting.deliver import ChannelDeliverer
from alerting.errors import BackendUnavailableError, log_fields

_log = structlog.get_logger("amf1.alerting.dispatch")


@dataclass
class ChannelWork:
    """What one channel has to do this cycle."""

    messages: list[AlertMessage] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.messages or self.keys)


@dataclass(frozen=True, slots=True)
class ChannelReport:
    """How a channel's work went.

    Attributes:
        sent_messages: how many of the watcher's own messages went out (from the front).
        delivered: whether any message went out (a channel that delivered is healthy).
        failure: why it stopped (a send refused or failed, or a bug), None if it did not.
        backend_down: the ledger (Elasticsearch) failed; the loop reports that itself.
    """

    channel: str
    sent_messages: int = 0
    delivered: bool = False
    failure: str | None = None
    backend_down: bool = False


def _run(deliverer: ChannelDeliverer, work: ChannelWork, now: datetime) -> ChannelReport:
    channel, sent, before = deliverer.channel, 0, deliverer.sent_count
    try:
        for message in work.messages:
            result = deliverer.send_direct(message)
            if not result.ok:
                return ChannelReport(channel, sent, sent > 0, result.error)
            sent += 1
        for rule, group in work.keys:
            failed = deliverer.deliver(rule, group, now)
            if failed is not None:
                # A rate limit is the channel working as agreed: wait (in the ledger), no alarm.
                error = None if failed.status == 429 else failed.error
                return ChannelReport(channel, sent, deliverer.sent_count > before, error)
    except BackendUnavailableError:
        return ChannelReport(channel, sent, deliverer.sent_count > before, backend_down=True)
    except Exception as exc:  # noqa: BLE001 - a bug in one channel must not stop the others
        _log.error("channel delivery crashed", **{"amf1.alert.channel": channel}, **log_fields(exc))
        return ChannelReport(channel, sent, False, f"{type(exc).__name__} (a bug; see the log)")
    return ChannelReport(channel, sent, sent > 0 or deliverer.sent_count > before)


class Dispatcher:
    """One single-thread executor per channel."""

    def __init__(self, deliverers: Iterable[ChannelDeliverer]) -> None:
        self._deliverers = {d.channel: d for d in deliverers}
        self._executors = {
            channel: ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"amf1-{channel}")
            for channel in self._deliverers
        }
        self._running: dict[str, Future[ChannelReport]] = {}

    @property
    def channels(self) -> list[str]:
        return list(self._deliverers)

    def dispatch(
        self, work: dict[str, ChannelWork], now: datetime, wait_s: float
    ) -> list[ChannelReport]:
        """Start each idle channel's work, wait up to `wait_s`; the reports of finished work."""
        reports = self._collect()
        for channel, todo in work.items():
            if todo and channel in self._executors and channel not in self._running:
                deliverer = self._deliverers[channel]
                self._running[channel] = self._executors[channel].submit(_run, deliverer, todo, now)
        return reports + self.wait(wait_s)

    def wait(self, wait_s: float) -> list[ChannelReport]:
        """Wait up to `wait_s` for running work; the reports of what finished."""
        if self._running:
            wait(list(self._running.values()), timeout=wait_s)
        return self._collect()

    def _collect(self) -> list[ChannelReport]:
        done = [channel for channel, future in self._running.items() if future.done()]
        return [self._running.pop(channel).result() for channel in done]

    def close(self) -> None:
        """Stop the workers (a send in progress finishes in its thread)."""
        for executor in self._executors.values():
            executor.shutdown(wait=False, cancel_futures=True)

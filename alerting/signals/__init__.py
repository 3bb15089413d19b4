"""Whole-service signals: values the watcher derives from the events of every process.

The service runs as several workers and replicas, and only Elasticsearch sees all of their
events. A signal reads them there, computes one value for the whole service (the join of
predictions with their outcomes, drift over all traffic, ...) and logs it as a catalogue event;
the alert rules read those events like any other. Every watcher that runs a signal logs the
same `event.id` for the same value (`signal_event_id`), so two watchers index one document.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final, Protocol

from elasticsearch import Elasticsearch

_NAMESPACE: Final = uuid.UUID("6f1c2b7e-4f0a-5d8e-9a3b-2c1d0e9f8a7b")


class Signal(Protocol):
    """One whole-service signal, run by the watcher every `interval_s` seconds."""

    name: str
    interval_s: float

    def run(self, es: Elasticsearch, now: datetime) -> None:
        """Compute the signal at `now` from Elasticsearch and log its events.

        Raises:
            elasticsearch.TransportError: Elasticsearch did not answer (retried next cycle).
            elasticsearch.ApiError: Elasticsearch refused a request (reported, retried).
        """


def signal_event_id(signal: str, key: str, at: datetime, interval_s: float) -> str:
    """The `event.id` of `signal`'s event for `key` in the interval holding `at`.

    Watchers that compute the same signal in the same interval agree on the id, so the log
    pipeline indexes their events as one document (`_id = event.id`).
    """
    bucket = int(at.timestamp() // interval_s)
    return str(uuid.uuid5(_NAMESPACE, f"{signal}/{key}/{bucket}"))

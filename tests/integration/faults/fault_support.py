"""Helpers of the fault suite: a real `amf1 serve` with a private buffer, bursts of requests, and
the count by `event.id` in Elasticsearch of what the service wrote to stdout.

Every scenario ends in `settle`: it waits (bounded poll) until every id the service wrote is
indexed, less what the shipper counted as dropped, and returns the figures (written, indexed,
lost, duplicated, dropped-and-counted, stdout-only lines of the shipper itself, seconds), which
it also prints and appends as one JSON line to the file named by AMF1_FAULT_REPORT.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from elasticsearch import Elasticsearch

from amf1.loadgen.payloads import PayloadFactory
from elk import pipeline_rules
from logshipping.output import NOT_SHIPPED_LOGGERS
from tests.integration.tracing_support import Served
from tests.stack_fixtures import StackEndpoints

REPORT_ENV = "AMF1_FAULT_REPORT"
ARRIVAL_S = 180.0  # a restarted Elasticsearch and the collector's queue catch up well within it
_POLL_S = 1.0


def service_env(stack: StackEndpoints, buffer_dir: Path, **extra: str) -> dict[str, str]:
    """`amf1 serve` of a service of its own name, shipping to the shared collector."""
    return {
        "AMF1_SERVICE_NAME": f"amf1-fault-{uuid.uuid4().hex[:8]}",
        "AMF1_ENVIRONMENT": "test",
        "AMF1_TRACING_ENABLED": "false",
        "AMF1_LOGSTASH_HOST": stack.log_tcp_host,
        "AMF1_LOGSTASH_PORT": str(stack.log_tcp_port),
        "AMF1_LOG_BUFFER_DIR": str(buffer_dir),
        "AMF1_LOG_LEVEL": "info",
        "AMF1_LOG_RETRY_MAX_S": "1",
        **extra,
    }


class Burst(threading.Thread):
    """Up to `count` real requests, one after the other, in a thread; stops at the first
    connection error (the service was killed) or when `stop` is set.

    Every fifth request is refused (404, a warning event); the others are predictions (info).
    """

    def __init__(self, url: str, count: int, pause_s: float = 0.0) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.count = count
        self.pause_s = pause_s
        self.statuses: Counter[int] = Counter()
        self.done = 0
        self.halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=10) as client:
            try:
                factory = PayloadFactory.synthetic(
                    client.get(f"{self.url}/drivers").json()["drivers"],
                    client.get(f"{self.url}/circuits").json()["circuits"],
                )
                for n in range(self.count):
                    if self.halt.is_set():
                        return
                    if n % 5 == 4:
                        answer = client.get(f"{self.url}/no-such-page")
                    else:
                        answer = client.post(
                            f"{self.url}/predict/qualifying", json=factory.qualifying()
                        )
                    self.statuses[answer.status_code] += 1
                    self.done += 1
                    if self.pause_s:
                        time.sleep(self.pause_s)
            except httpx.TransportError:
                self.statuses[0] += 1

    def wait_done(self, at_least: int, timeout_s: float = 60.0) -> None:
        """Block until `at_least` requests were answered (bounded)."""
        deadline = time.monotonic() + timeout_s
        while self.done < at_least and self.is_alive():
            assert time.monotonic() < deadline, f"{self.done} of {at_least} requests answered"
            time.sleep(0.05)


def burst(url: str, count: int) -> Counter[int]:
    """Send `count` requests and wait for them (see `Burst`); the statuses."""
    load = Burst(url, count)
    load.start()
    load.join(120)
    return load.statuses


def written(runs: Iterable[Served]) -> tuple[list[dict[str, Any]], int]:
    """(the events to find in Elasticsearch, how many stdout-only events were left out).

    Every JSON event the service's processes wrote to stdout must carry an event.id. The
    shipper's own records (`NOT_SHIPPED_LOGGERS`, e.g. "log receiver unavailable") go to stdout
    only, by design: shipping them would feed a failing shipper's warnings into its own buffer.
    """
    events = [event for served in runs for event in served.events()]
    without_id = [event for event in events if "event.id" not in event]
    assert not without_id, f"stdout events without event.id: {without_id[:3]}"
    shipped = [
        e for e in events if not str(e.get("log.logger", "")).startswith(NOT_SHIPPED_LOGGERS)
    ]
    return shipped, len(events) - len(shipped)


def dropped_counted(events: Iterable[dict[str, Any]]) -> int:
    """Events the shipper reported as dropped (its `shipper-dropped` events)."""
    return sum(
        int(event["amf1.shipper.dropped_count"])
        for event in events
        if event.get("event.action") == "shipper-dropped" and "amf1.shipper.dropped_count" in event
    )


def indexed(es: Elasticsearch, ids: list[str]) -> Counter[str]:
    """Documents per event.id in `amf1-logs-*` among `ids` (a terms aggregation)."""
    es.indices.refresh(index=pipeline_rules.INDEX_PATTERN)
    found = es.search(
        index=pipeline_rules.INDEX_PATTERN,
        size=0,
        query={"terms": {"event.id": ids}},
        aggs={"ids": {"terms": {"field": "event.id", "size": max(len(ids), 1)}}},
    )
    return Counter({b["key"]: int(b["doc_count"]) for b in found["aggregations"]["ids"]["buckets"]})


@dataclass(frozen=True)
class Figures:
    """What one scenario measured."""

    scenario: str
    written: int
    indexed: int
    lost: int
    duplicated: int
    dropped_counted: int
    stdout_only: int
    seconds: float
    outage_s: dict[str, float] = field(default_factory=dict)

    def record(self) -> None:
        """Print the figures and append them to AMF1_FAULT_REPORT (if set) as one JSON line."""
        line = orjson.dumps(asdict(self)).decode()
        print(f"fault figures: {line}")
        path = os.environ.get(REPORT_ENV)
        if path:
            with Path(path).open("a") as report:
                report.write(line + "\n")


def settle(
    es: Elasticsearch,
    scenario: str,
    runs: Iterable[Served],
    started: float,
    outage_s: dict[str, float] | None = None,
) -> tuple[Figures, list[dict[str, Any]], Counter[str]]:
    """Wait (bounded poll) until all the ids written, less those counted as dropped, are
    indexed; return the figures, the written events and the documents per id."""
    events, stdout_only = written(runs)
    ids = sorted({event["event.id"] for event in events})
    dropped = dropped_counted(events)
    deadline = time.monotonic() + ARRIVAL_S
    docs: Counter[str] = Counter()
    while True:
        try:
            docs = indexed(es, ids)
        except Exception:  # Elasticsearch may still be starting: keep polling
            docs = Counter()
        if len(docs) >= len(ids) - dropped or time.monotonic() > deadline:
            break
        time.sleep(_POLL_S)
    figures = Figures(
        scenario=scenario,
        written=len(ids),
        indexed=len(docs),
        lost=len(ids) - len(docs),
        duplicated=sum(docs.values()) - len(docs),
        dropped_counted=dropped,
        stdout_only=stdout_only,
        seconds=round(time.monotonic() - started, 1),
        outage_s=outage_s or {},
    )
    figures.record()
    return figures, events, docs


class Outage:
    """Times how long each named service stays stopped (for the figures)."""

    def __init__(self) -> None:
        self._since: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    def began(self, name: str) -> None:
        self._since[name] = time.monotonic()

    def ended(self, name: str) -> None:
        self.seconds[name] = round(time.monotonic() - self._since.pop(name), 1)

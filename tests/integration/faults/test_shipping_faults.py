"""The real service under faults: nothing it wrote to stdout is lost or indexed twice.

Each scenario runs `amf1 serve` as a subprocess with a private buffer dir, shipping to the shared
collector, drives a bounded burst of real requests, breaks something (the service, the collector,
Elasticsearch), repairs it, then counts the service's stdout event ids in Elasticsearch
(`fault_support.settle`). Outages stay short; `stack_control` restarts whatever a test leaves
stopped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from tests.integration.faults.fault_support import Burst, Outage, burst, service_env, settle
from tests.integration.tracing_support import serve
from tests.stack_fixtures import ServiceSwitch, StackEndpoints

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("index_template")]

LEVELS = ("debug", "info", "warning", "error", "critical")


def test_kill_9_mid_burst_then_restart_ships_what_was_buffered(
    stack: StackEndpoints, es: Elasticsearch, models_dir: Path, tmp_path: Path
) -> None:
    """kill -9 in the middle of a burst; the next process on the same buffer dir ships what the
    killed one had not confirmed: every stdout event indexed once."""
    started = time.monotonic()
    env = service_env(stack, tmp_path / "buffer")
    with serve(tmp_path, models_dir, env) as first:
        load = Burst(first.url, 600)
        load.start()
        load.wait_done(200)
        first.process.kill()
        first.process.wait(10)
        load.join(30)
    assert load.statuses[0] == 1, "the burst should have met the killed service"
    with serve(tmp_path, models_dir, env) as second:
        burst(second.url, 50)
    figures, _, _ = settle(es, "kill -9 mid-burst, restart", [first, second], started)
    assert (figures.lost, figures.duplicated, figures.dropped_counted) == (0, 0, 0), figures
    assert not list((tmp_path / "buffer").glob(f"amf1-logs-{first.process.pid}.*")), "not adopted"


def test_elasticsearch_then_collector_stopped_during_load(
    stack: StackEndpoints,
    es: Elasticsearch,
    stack_control: ServiceSwitch,
    models_dir: Path,
    tmp_path: Path,
) -> None:
    """Elasticsearch stopped under load, then the collector; the collector started (while
    Elasticsearch is still down), then Elasticsearch: the collector's disk queue and the
    shipper's buffer hold every event, and each is indexed once."""
    started = time.monotonic()
    outage = Outage()
    with serve(tmp_path, models_dir, service_env(stack, tmp_path / "buffer")) as served:
        load = Burst(served.url, 3000, pause_s=0.02)
        load.start()
        try:
            load.wait_done(100)
            outage.began("elasticsearch")
            stack_control.stop("elasticsearch")
            time.sleep(3)  # load flows into the collector's queue: the outage being exercised
            outage.began("collector")
            stack_control.stop("collector")
            time.sleep(3)  # load flows into the shipper's buffer
            stack_control.start("collector")  # its disk queue waits for Elasticsearch
            outage.ended("collector")
            outage.began("elasticsearch start")
            stack_control.start("elasticsearch")
            outage.ended("elasticsearch start")
            outage.ended("elasticsearch")
            load.wait_done(load.done + 100)
        finally:
            load.halt.set()
            load.join(30)
    assert load.statuses[0] == 0, "the service must answer throughout"
    figures, _, _ = settle(
        es, "elasticsearch then collector stopped", [served], started, outage.seconds
    )
    assert (figures.lost, figures.duplicated, figures.dropped_counted) == (0, 0, 0), figures


def test_service_restarted_while_the_collector_is_down(
    stack: StackEndpoints,
    es: Elasticsearch,
    stack_control: ServiceSwitch,
    models_dir: Path,
    tmp_path: Path,
) -> None:
    """The service stopped and started again while the collector is down: the first process's
    buffer is adopted by the second, and everything arrives once the collector is back."""
    started = time.monotonic()
    outage = Outage()
    env = service_env(stack, tmp_path / "buffer", AMF1_LOG_SHUTDOWN_TIMEOUT_S="1")
    try:
        with serve(tmp_path, models_dir, env) as first:
            burst(first.url, 50)
            outage.began("collector")
            stack_control.stop("collector")
            burst(first.url, 100)
        with serve(tmp_path, models_dir, env) as second:
            burst(second.url, 100)
            stack_control.start("collector")
            outage.ended("collector")
            burst(second.url, 50)
    finally:
        stack_control.restore()
    figures, _, _ = settle(
        es, "service restarted, collector down", [first, second], started, outage.seconds
    )
    assert (figures.lost, figures.duplicated, figures.dropped_counted) == (0, 0, 0), figures


def test_full_buffer_drops_exactly_what_it_counts_lowest_levels_first(
    stack: StackEndpoints,
    es: Elasticsearch,
    stack_control: ServiceSwitch,
    models_dir: Path,
    tmp_path: Path,
) -> None:
    """Collector down, buffer bounded to 100 events: what is missing in Elasticsearch is exactly
    the number the shipper reported dropped, all of the lowest level; every warning arrives."""
    started = time.monotonic()
    outage = Outage()
    env = service_env(stack, tmp_path / "buffer", AMF1_LOG_BUFFER_MAX_EVENTS="100")
    # Down before the service starts: every event goes through the buffer. (Stopped later, the
    # events sent just before the cut but not yet confirmed are buffered again; if the bound
    # drops them, they count as dropped though they arrived: counted >= lost, by up to ~1 s.)
    outage.began("collector")
    stack_control.stop("collector")
    try:
        with serve(tmp_path, models_dir, env) as served:
            burst(served.url, 300)
            _wait_reported_drops(served.events)
            stack_control.start("collector")
            outage.ended("collector")
            burst(served.url, 10)
    finally:
        stack_control.restore()
    figures, events, docs = settle(
        es, "buffer filled to its bounds", [served], started, outage.seconds
    )
    lost = [event for event in events if event["event.id"] not in docs]
    assert figures.dropped_counted > 0
    assert figures.lost == figures.dropped_counted, figures
    assert figures.duplicated == 0, figures
    kept_levels = {LEVELS.index(e["log.level"]) for e in events if e["event.id"] in docs}
    lost_levels = {LEVELS.index(e["log.level"]) for e in lost}
    assert lost_levels == {LEVELS.index("info")}
    assert min(kept_levels) <= max(lost_levels) < max(kept_levels)
    assert all(e["event.id"] in docs for e in events if e["log.level"] != "info")


def _wait_reported_drops(events: Any, timeout_s: float = 30.0) -> None:
    """Bounded wait for the shipper's first `shipper-dropped` report on stdout."""
    deadline = time.monotonic() + timeout_s
    while not any(e.get("event.action") == "shipper-dropped" for e in events()):
        assert time.monotonic() < deadline, "no shipper-dropped report"
        time.sleep(0.2)

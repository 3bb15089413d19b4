"""Delivered events/s to a loopback TCP sink: the project's shipper vs the library's defaults.

Both are python-logstash-async with a persistent SQLite buffer in a temporary directory. The
clock runs from the first logging call to the moment the sink holds every event. A third figure
is the drain rate of a backlog: events logged while the receiver is down (so they sit in SQLite),
clock from the moment the receiver comes up. The library's
defaults deliver about 500 events/s, so it gets fewer events; the rate is what counts.

    python -m bench.shipping [--events 30000] [--library-events 1000]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

import logshipping
from bench.sink import Sink
from logshipping import Action, Settings, emit

_FIELDS = {
    "http.request.method": "POST",
    "url.path": "/predict/stage1",
    "http.response.status_code": 200,
    "event.duration": 1_234_567,
    "amf1.model.name": "stage1-qualifying",
    "amf1.model.version": "2026.11.1",
    "amf1.prediction.id": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
}


def measure_project(events: int, directory: Path, timeout_s: float) -> float:
    """Events/s delivered by the project's configured pipeline (stdout to /dev/null)."""
    with Sink(expect=events) as sink, open(os.devnull, "wb") as devnull:  # noqa: PTH123
        logshipping.configure(
            Settings(logstash_port=sink.port, log_buffer_dir=directory), stream=devnull
        )
        start = time.perf_counter()
        for _ in range(events):
            emit(Action.PREDICTION_SUCCEEDED, "prediction served", _FIELDS)
        end = sink.wait_done(timeout_s)
        logshipping.shutdown()
    return events / (end - start)


def measure_backlog_drain(events: int, directory: Path, timeout_s: float) -> float:
    """Events/s delivered from the SQLite buffer: logged while the receiver is down, then up."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    with open(os.devnull, "wb") as devnull:  # noqa: PTH123
        logshipping.configure(
            Settings(logstash_port=port, log_buffer_dir=directory, log_retry_max_s=0.05),
            stream=devnull,
        )
        for _ in range(events):
            emit(Action.PREDICTION_SUCCEEDED, "prediction served", _FIELDS)
        time.sleep(1.0)  # every event is now in SQLite, the shipper backing off
        with Sink(expect=events, port=port) as sink:
            start = time.perf_counter()
            end = sink.wait_done(timeout_s)
            logshipping.shutdown()
    return events / (end - start)


def measure_library_defaults(events: int, directory: Path, timeout_s: float) -> float:
    """Events/s delivered by AsynchronousLogstashHandler with every default (SQLite buffer)."""
    from logstash_async.handler import AsynchronousLogstashHandler  # noqa: PLC0415

    with Sink(expect=events) as sink:
        handler = AsynchronousLogstashHandler(
            "127.0.0.1", sink.port, database_path=str(directory / "library.sqlite3")
        )
        logger = logging.getLogger("bench.library")
        logger.propagate = False
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            start = time.perf_counter()
            for _ in range(events):
                logger.info("prediction served", extra=_FIELDS)
            end = sink.wait_done(timeout_s)
        finally:
            logger.removeHandler(handler)
            handler.close()
    return events / (end - start)


def main() -> None:
    """Prints {project_events_per_s, library_defaults_events_per_s, ratio} as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--library-events", type=int, default=1_000)
    parser.add_argument("--timeout-s", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        library = measure_library_defaults(args.library_events, Path(tmp), args.timeout_s)
        project = measure_project(args.events, Path(tmp) / "project", args.timeout_s)
        drain = measure_backlog_drain(args.events, Path(tmp) / "drain", args.timeout_s)
    json.dump(
        {
            "project_events_per_s": round(project),
            "library_defaults_events_per_s": round(library),
            "ratio": round(project / library, 1),
            "project_backlog_drain_events_per_s": round(drain),
            "project_events": args.events,
            "library_events": args.library_events,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

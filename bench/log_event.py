"""Request-thread cost of one log event: the project's pipeline vs stdlib logging + JSON formatter.

Both write to /dev/null; the project also ships (journal hand-off, shipper thread running against
a live loopback TCP sink in another process, and once more against a dead port). Runs are
interleaved and the median of several rounds is reported, so load from other processes hits both
sides alike. `*_us` is wall-clock time per call (what a request waits, including GIL waits for the
shipper thread); `*_cpu_us` is the calling thread's CPU time (robust when the machine is shared).

    python -m bench.log_event [--events 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import logshipping
from bench.sink import Sink
from logshipping import Action, Settings, emit

FIELDS: dict[str, Any] = {
    "http.request.method": "POST",
    "url.path": "/predict/stage1",
    "http.response.status_code": 200,
    "event.duration": 1_234_567,
    "amf1.model.name": "stage1-qualifying",
    "amf1.model.version": "2026.11.1",
    "amf1.prediction.id": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    "amf1.driver": "VER",
    "amf1.circuit": "monza",
    "amf1.prediction.lap_time_s": 80.123,
}
_RECORD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """A typical stdlib JSON formatter (python-json-logger style): record + extras, json.dumps."""

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "@timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "log.level": record.levelname.lower(),
            "log.logger": record.name,
            "message": record.getMessage(),
        }
        event.update((k, v) for k, v in vars(record).items() if k not in _RECORD_ATTRS)
        return json.dumps(event)


def _stdlib_logger(devnull: Any) -> logging.Logger:
    logger = logging.getLogger("bench.stdlib")
    logger.propagate = False
    handler = logging.StreamHandler(devnull)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger


def _time_per_event_us(log_one: Any, events: int) -> tuple[float, float]:
    """(wall, thread CPU) microseconds per call."""
    start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
    for _ in range(events):
        log_one()
    wall, cpu = time.perf_counter_ns() - start, time.thread_time_ns() - start_cpu
    return wall / events / 1000, cpu / events / 1000


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    """Prints {project_us, stdlib_json_us, ratio, ...} as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    devnull_text = open(os.devnull, "w")  # noqa: SIM115, PTH123 - closed at exit
    devnull = open(os.devnull, "wb")  # noqa: SIM115, PTH123 - closed at exit
    stdlib = _stdlib_logger(devnull_text)
    results: dict[str, list[tuple[float, float]]] = {"project": [], "stdlib": [], "dead": []}
    with tempfile.TemporaryDirectory() as tmp, Sink() as sink:
        live = Settings(logstash_port=sink.port, log_buffer_dir=Path(tmp) / "live")
        dead = Settings(logstash_port=_dead_port(), log_buffer_dir=Path(tmp) / "dead")

        def project() -> None:
            emit(Action.PREDICTION_SUCCEEDED, "prediction served", FIELDS)

        def baseline() -> None:
            stdlib.info("prediction served", extra=FIELDS)

        for _ in range(args.rounds):
            logshipping.configure(live, stream=devnull)
            results["project"].append(_time_per_event_us(project, args.events))
            logshipping.shutdown()
            results["stdlib"].append(_time_per_event_us(baseline, args.events))
            logshipping.configure(dead, stream=devnull)
            results["dead"].append(_time_per_event_us(project, args.events))
            logshipping.shutdown(timeout_s=0.1)
    wall = {k: statistics.median(v[0] for v in runs) for k, runs in results.items()}
    cpu = {k: statistics.median(v[1] for v in runs) for k, runs in results.items()}
    json.dump(
        {
            "project_us": round(wall["project"], 2),
            "stdlib_json_us": round(wall["stdlib"], 2),
            "ratio": round(wall["project"] / wall["stdlib"], 3),
            "project_cpu_us": round(cpu["project"], 2),
            "stdlib_json_cpu_us": round(cpu["stdlib"], 2),
            "ratio_cpu": round(cpu["project"] / cpu["stdlib"], 3),
            "project_dead_receiver_us": round(wall["dead"], 2),
            "project_dead_receiver_cpu_us": round(cpu["dead"], 2),
            "dead_vs_live_ratio": round(wall["dead"] / wall["project"], 3),
            "events_per_round": args.events,
            "rounds": args.rounds,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

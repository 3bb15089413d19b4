"""`python -m bench.alert_latency [--incidents N] [--query-delay S]`: event -> every channel.

Repeats a model-load-failure incident (a new model name each time, so each is a new alert; it is
critical, so it goes to Slack #amf1-critical, PagerDuty and email) with the watcher running in
this process at a 1 s interval, and measures, per channel, the time from emitting the event to
the local stand-in receiving the alert: a Slack webhook recorder, the PagerDuty Events API v2
stand-in (HTTPS) and the SMTP server (STARTTLS + AUTH) of the tests. The event goes through the
real pipeline (logshipping -> collector TCP 5000 -> Elasticsearch) when the collector answers,
else it is indexed straight into Elasticsearch; the JSON says which. Baseline, measured in the
same run: the ingest latency alone (emission -> searchable), the floor any log-based alerting
pays. Kibana's rules check once a minute by default.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk

from alerting.backend import field_types, make_client
from alerting.channels import Channels
from alerting.loading import load_compiled_rules
from alerting.settings import Settings
from alerting.watcher import Watcher
from elk.installer import install
from elk.security.credentials import StackUser
from tests.alerting.pagerduty_server import ROUTING_KEY, PagerDutyServer
from tests.alerting.smtp_server import PASSWORD, USER, SmtpServer

CHANNELS = ("slack", "pagerduty", "email")

RULE = "model-load-failure"


class Recorder:
    """A Slack stand-in that notes when each message arrived."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.arrivals.append((time.time(), json.loads(body).get("text", "")))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/bench"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def arrival_of(self, marker: str) -> float | None:
        return next((at for at, text in self.arrivals if marker in text), None)


def _collector_up(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _emitter(pipeline: bool, es: Elasticsearch) -> Any:
    """A function emitting one model-load-failed event for a model name."""
    if pipeline:
        import logshipping  # noqa: PLC0415 - configures process-wide logging, only here

        # The process's own log lines go to stderr: stdout carries only the result.
        logshipping.configure(
            logshipping.Settings(log_dataset="amf1.service"), ship=True, stream=sys.stderr.buffer
        )

        def emit_shipped(model: str) -> None:
            logshipping.emit(
                logshipping.Action.MODEL_LOAD_FAILED,
                "bench: model load failed",
                {"amf1.model.name": model, "error.type": "Bench", "error.message": "bench"},
            )

        return emit_shipped

    def emit_indexed(model: str) -> None:
        now = datetime.now(UTC)
        doc = {
            "@timestamp": now.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "event.id": str(uuid.uuid4()),
            "event.action": "model-load-failed",
            "event.dataset": "amf1.service",
            "log.level": "error",
            "amf1.model.name": model,
            "error.type": "Bench",
        }
        es.index(index=f"amf1-logs-{now:%Y.%m.%d}", id=doc["event.id"], document=doc)

    return emit_indexed


def _searchable(es: Elasticsearch, model: str) -> bool:
    response = es.count(
        index="amf1-logs-*", query={"term": {"amf1.model.name": model}}, ignore_unavailable=True
    )
    return int(response["count"]) > 0


def _delete_bench_events(es: Elasticsearch, prefix: str) -> None:
    """Remove this run's events (by id: delete-by-query is not in every distribution)."""
    es.indices.refresh(index="amf1-logs-*", ignore_unavailable=True)
    found = es.search(
        index="amf1-logs-*",
        query={"prefix": {"amf1.model.name": prefix}},
        size=1000,
        source=False,
        ignore_unavailable=True,
    )
    actions = [
        {"_op_type": "delete", "_index": hit["_index"], "_id": hit["_id"]}
        for hit in found["hits"]["hits"]
    ]
    if actions:
        bulk(es, actions, refresh=True)


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50": round(statistics.median(ordered), 3),
        "p95": round(p95, 3),
        "max": round(ordered[-1], 3),
    }


@dataclass
class Receivers:
    """The three local stand-ins and when each got the alert of a model."""

    slack: Recorder
    pagerduty: PagerDutyServer
    smtp: SmtpServer

    def arrivals(self, model: str) -> dict[str, float | None]:
        marker = f"[{model}]"
        events = list(zip(self.pagerduty.arrivals, self.pagerduty.events, strict=True))
        return {
            "slack": self.slack.arrival_of(marker),
            "pagerduty": next(
                (at for at, e in events if marker in e.get("payload", {}).get("summary", "")),
                None,
            ),
            "email": next(
                (m.at for m in list(self.smtp.received) if marker in str(m.message["Subject"])),
                None,
            ),
        }


def _incident(
    es: Elasticsearch, emit: Any, receivers: Receivers, model: str, timeout_s: float
) -> tuple[float | None, dict[str, float | None]]:
    """Emit one failure; returns (ingest latency, alert latency per channel) in seconds (None:
    timed out)."""
    started = time.time()
    emit(model)
    ingest = None
    alerts: dict[str, float | None] = dict.fromkeys(CHANNELS)
    while time.time() - started < timeout_s and None in alerts.values():
        if ingest is None and _searchable(es, model):
            ingest = time.time() - started
        for channel, arrived in receivers.arrivals(model).items():
            if arrived is not None and alerts[channel] is None:
                alerts[channel] = arrived - started
        time.sleep(0.02)
    return ingest, alerts


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alert_latency", description=__doc__)
    parser.add_argument("--incidents", type=int, default=20)
    parser.add_argument("--query-delay", type=float, default=Settings().query_delay_s)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="amf1-bench-alert-"))
    receivers = Receivers(Recorder(), PagerDutyServer(workdir), SmtpServer(workdir))
    receivers.pagerduty.start()
    receivers.smtp.start()
    settings = Settings(
        watch_interval_s=1.0,
        query_delay_s=args.query_delay,
        state_index=f"amf1-watcher-bench-{uuid.uuid4().hex[:8]}",
        slack_critical_webhook_url=receivers.slack.url,
        slack_alerts_webhook_url=receivers.slack.url,
        slack_data_webhook_url=receivers.slack.url,
        slack_timeout_s=5,
        pagerduty_routing_key=ROUTING_KEY,
        pagerduty_url=receivers.pagerduty.url,
        pagerduty_ca_cert=receivers.pagerduty.cert_file,
        smtp_host="127.0.0.1",
        smtp_port=receivers.smtp.port,
        smtp_username=USER,
        smtp_password=PASSWORD,
        smtp_ca_cert=receivers.smtp.cert_file,
        email_from="watcher@amf1.example",
        email_to="oncall@amf1.example",
    )
    # The bench seeds the log indices itself: an admin client (the watcher under test has its own).
    es = make_client(settings, StackUser.ADMIN)
    install(es)
    rules = [
        c
        for c in load_compiled_rules(
            settings.rules_file,
            settings.saved_objects_dir,
            field_types(settings, es),
            settings.index_prefix,
        )
        if c.rule.id == RULE
    ]
    watcher = Watcher(settings, rules, es, Channels.from_settings(settings))
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run_forever, args=(stop,), daemon=True)
    pipeline = _collector_up("127.0.0.1", 5000)
    emit = _emitter(pipeline, es)
    run = uuid.uuid4().hex[:6]
    ingest: list[float] = []
    alerts: dict[str, list[float]] = {channel: [] for channel in CHANNELS}
    missed = dict.fromkeys(CHANNELS, 0)
    thread.start()
    try:
        for i in range(args.incidents):
            model = f"bench-{run}-{i}"
            got_ingest, got_alerts = _incident(es, emit, receivers, model, args.timeout)
            ingest.extend([got_ingest] if got_ingest is not None else [])
            for channel, latency in got_alerts.items():
                alerts[channel].extend([latency] if latency is not None else [])
                missed[channel] += latency is None
            time.sleep(0.3 + (i % 7) / 10)  # spread emissions over the 1 s evaluation grid
    finally:
        stop.set()
        thread.join(timeout=10)
        receivers.slack.server.shutdown()
        receivers.pagerduty.stop()
        receivers.smtp.stop()
        es.indices.delete(index=settings.state_index, ignore_unavailable=True)
        _delete_bench_events(es, f"bench-{run}-")
    result: dict[str, Any] = {
        "path": "pipeline: logshipping -> collector tcp 5000 -> Elasticsearch"
        if pipeline
        else "direct Elasticsearch indexing (collector not reachable on 5000)",
        "incidents": args.incidents,
        "missed": missed,
        "interval_s": settings.watch_interval_s,
        "query_delay_s": settings.query_delay_s,
        "alert_latency_s": {
            channel: _summary(values) if values else None for channel, values in alerts.items()
        },
        "baseline_ingest_latency_s": _summary(ingest) if ingest else None,
        "kibana_default_check_interval_s": 60,
        "goal_p95_s": 5.0,
    }
    if pipeline:
        import logshipping  # noqa: PLC0415

        logshipping.shutdown()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Helpers of the watcher integration tests: planted events, a simulated clock, Slack parsing.

Each test plants its events on its own day far in the past (`amf1-logs-2001.xx.xx`, installed
with the real index template), and drives the watcher with a simulated clock on that day, so
tests never see each other's data, nor live data.
"""

from __future__ import annotations

import contextlib
import random
import re
import socket
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk

from alerting.backend import make_client
from alerting.channels import Channels
from alerting.loading import load_compiled_rules
from alerting.settings import Settings
from alerting.signals import Signal
from alerting.watcher import Watcher
from kibana.mapping import load_template_file
from tests.alerting.slack_server import SlackServer

_KIND = re.compile(r"(FIRED|ESCALATED|REPEAT|RESOLVED) (WARNING|CRITICAL): [^\[]*?(?:\[(.*?)\])? —")
_RULE = re.compile(r"\[rule ([a-z0-9-]+)\]$")


def incident_day() -> datetime:
    """Midnight UTC of a random day in 2001-2003 (each test its own)."""
    return datetime(2001, 1, 1, tzinfo=UTC) + timedelta(days=random.randrange(1, 1000))


def event(at: datetime, action: str, **fields: Any) -> dict[str, Any]:
    """One log event as the pipeline indexes it (flat dotted ECS names)."""
    doc: dict[str, Any] = {
        "@timestamp": at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "event.id": str(uuid.uuid4()),
        "event.action": action,
        "event.dataset": "amf1.service",
        "service.name": "amf1-service",
        "log.level": "info",
        "message": action,
    }
    doc.update({k.replace("__", "."): v for k, v in fields.items()})
    return doc


def plant(es: Elasticsearch, docs: Iterable[dict[str, Any]], prefix: str = "amf1-logs-") -> None:
    """Index events into their daily index (`_id` = `event.id`) and make them searchable."""
    actions = [
        {
            "_index": f"{prefix}{doc['@timestamp'][:10].replace('-', '.')}",
            "_id": doc["event.id"],
            "_source": doc,
        }
        for doc in docs
    ]
    bulk(es, actions, refresh="wait_for")


@dataclass
class SimClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Harness:
    """Settings, rules and a clock shared by one or more watchers (same state index)."""

    settings: Settings
    clock: SimClock
    rule_ids: tuple[str, ...]
    watchers: list[Watcher] = field(default_factory=list)

    def new_watcher(self, signals: Sequence[Signal] = ()) -> Watcher:
        settings = self.settings
        types = load_template_file(settings.index_template_file)
        rules = [
            c
            for c in load_compiled_rules(
                settings.rules_file, settings.saved_objects_dir, types, settings.index_prefix
            )
            if c.rule.id in self.rule_ids
        ]
        notifier = Channels.from_settings(settings)
        watcher = Watcher(
            settings, rules, make_client(settings), notifier, clock=self.clock, signals=signals
        )
        self.watchers.append(watcher)
        return watcher

    def run(
        self, until_s: float, watchers: list[Watcher] | None = None, *, parallel: bool = False
    ) -> None:
        """Run the watchers once per interval until `until_s` after the clock's start.

        `parallel`: the watchers of one cycle run at the same moment in their own threads, so
        their state writes really race.
        """
        active = watchers or self.watchers
        while self.clock.now < self.start + timedelta(seconds=until_s):
            if parallel:
                threads = [threading.Thread(target=w.run_once) for w in active]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            else:
                for watcher in active:
                    watcher.run_once()
            self.clock.advance(self.settings.watch_interval_s)

    @property
    def start(self) -> datetime:
        return self._start

    def __post_init__(self) -> None:
        self._start = self.clock.now


def harness(es_url: str, slack: SlackServer, day: datetime, *rule_ids: str, **over: Any) -> Harness:
    """A harness on `day` for the named rules, Slack's three channels pointed at the stand-in."""
    options: dict[str, Any] = {
        "es_url": es_url,
        "state_index": f"amf1-watcher-state-test-{uuid.uuid4().hex[:12]}",
        "watch_interval_s": 5.0,
        "query_delay_s": 0.0,
        "degraded_after_s": 20.0,
        "slack_critical_webhook_url": slack.url("critical"),
        "slack_alerts_webhook_url": slack.url("alerts"),
        "slack_data_webhook_url": slack.url("data"),
        "slack_timeout_s": 5,
        "slack_max_retries": 1,
        "slack_max_retry_after_s": 5,
        "es_timeout_s": 5.0,
    }
    options.update(over)
    return Harness(Settings(**options), SimClock(day), rule_ids)


def messages(
    slack: SlackServer, rule: str | None = None, channel: str | None = None
) -> list[tuple[str, str, str]]:
    """(kind, severity, group) of every alert message received, in order, for `rule` (on one
    Slack `channel`: critical, alerts, data)."""
    found = []
    for text in slack.texts(channel):
        rule_match = _RULE.search(text)
        kind = _KIND.search(text)
        if rule_match is None or kind is None or (rule and rule_match.group(1) != rule):
            continue
        found.append((kind.group(1).lower(), kind.group(2).lower(), kind.group(3) or ""))
    return found


def cleanup(es: Elasticsearch, h: Harness) -> None:
    """Delete the harness's day indices (the day and the next) and its state index."""
    day = h.start
    names = [f"amf1-logs-{d:%Y.%m.%d}" for d in (day, day + timedelta(days=1))]
    es.indices.delete(index=",".join(names), ignore_unavailable=True, allow_no_indices=True)
    es.indices.delete(index=h.settings.state_index, ignore_unavailable=True)


class TcpProxy:
    """A loopback TCP relay in front of Elasticsearch that can cut the line and restore it.

    The watcher talks to the real server through it; `stop()` refuses new connections and drops
    open ones (a network partition), `start()` listens again on the same port.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            if self._listener is not None:
                # shutdown() wakes the thread blocked in accept(); close() alone would not.
                with contextlib.suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

"""The watcher runs its whole-service signals on their own cadence and survives a failing one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders
from elasticsearch import ApiError, Elasticsearch

from alerting.backend import make_client
from alerting.channels import Channels
from alerting.signals import signal_event_id
from alerting.watcher import Watcher
from tests.alerting.slack_server import SlackServer, slack_fixture
from tests.integration.watcher_support import Harness, SimClock, cleanup, harness, incident_day

pytestmark = pytest.mark.integration
__all__ = ["slack_fixture"]


@dataclass
class Recording:
    """A signal that records when it ran; `refuse` makes Elasticsearch refuse it."""

    name: str
    interval_s: float
    refuse: bool = False
    runs: list[datetime] = field(default_factory=list)

    def run(self, es: Elasticsearch, now: datetime) -> None:
        self.runs.append(now)
        if self.refuse:
            meta = ApiResponseMeta(400, "1.1", HttpHeaders(), 0.0, None)  # type: ignore[arg-type]
            raise ApiError("search_phase_execution_exception", meta, {})


@pytest.fixture
def setup(es: Elasticsearch, stack: Any, slack: SlackServer) -> Iterator[Harness]:
    h = harness(stack.es_url, slack, incident_day())
    yield h
    cleanup(es, h)


def _watcher(h: Harness, clock: SimClock, *signals: Recording) -> Watcher:
    notifier = Channels([])
    return Watcher(h.settings, [], make_client(h.settings), notifier, clock=clock, signals=signals)


def test_each_signal_runs_once_per_its_interval(setup: Harness) -> None:
    """Cycles every 10 s run a 30 s signal at 0, 30 and 60 s, a 10 s signal every cycle."""
    clock = SimClock(setup.clock.now)
    slow, fast = Recording("slow", 30.0), Recording("fast", 10.0)
    watcher = _watcher(setup, clock, slow, fast)
    for _ in range(7):
        watcher.run_once()
        clock.advance(10)
    start = setup.clock.now
    assert [(t - start).total_seconds() for t in slow.runs] == [0, 30, 60]
    assert len(fast.runs) == 7


def test_a_refused_signal_is_reported_and_the_others_keep_running(setup: Harness) -> None:
    """Elasticsearch refusing one signal marks it failing in health; the next one still runs."""
    clock = SimClock(setup.clock.now)
    broken, healthy = Recording("broken", 10.0, refuse=True), Recording("healthy", 10.0)
    watcher = _watcher(setup, clock, broken, healthy)
    assert watcher.run_once()  # Elasticsearch itself answered
    assert watcher.health.failing("signal broken")
    assert not watcher.health.failing("signal healthy")
    assert len(healthy.runs) == 1
    clock.advance(10)
    watcher.run_once()
    assert len(broken.runs) == 2  # retried next cycle


def test_watchers_agree_on_a_signal_event_id_within_an_interval() -> None:
    """Two watchers computing one value in one interval log one id; the next interval another."""
    at = datetime(2026, 12, 6, 12, 0, 5).astimezone()
    same = signal_event_id("performance", "stage1", at + timedelta(seconds=50), 60)
    assert signal_event_id("performance", "stage1", at, 60) == same
    assert signal_event_id("performance", "stage1", at + timedelta(seconds=60), 60) != same
    assert signal_event_id("performance", "stage2", at, 60) != same

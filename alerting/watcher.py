"""The watcher loop: evaluate every rule on a time grid, persist transitions, deliver messages.

Window ends sit on a grid of `watch_interval_s` (now - query delay, rounded down), so two
watchers evaluate the same windows and the state's "last window applied" marker makes the second
one a no-op. After an outage (or a restart) the rule's cursor says where it stopped and the
missed span is evaluated in steps of half a window, so an incident that began and ended while the
watcher could not look still fires and resolves. Elasticsearch trouble never stops the loop and
never disables a rule: the cursor simply does not move until it answers again.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError

from alerting.deliver import Deliverer
from alerting.errors import BackendUnavailableError, StateConflictError
from alerting.evaluate import (
    UNGROUPED,
    Verdict,
    Window,
    build_search,
    index_names,
    judge,
    missing_observation,
    parse_response,
)
from alerting.health import ELASTICSEARCH, Health
from alerting.loading import CompiledRule
from alerting.message import Links, build_payload
from alerting.notify import SlackNotifier
from alerting.settings import Settings
from alerting.signals import Signal
from alerting.state_machine import AlertState, advance, make_delivery
from alerting.state_store import RuleCursor, StateStore, Versioned
from logshipping.events import Action, emit

_WRITE_ATTEMPTS = 5
_MAX_STEPS_PER_CYCLE = 60


def utcnow() -> datetime:
    return datetime.now(UTC)


def grid_end(now: datetime, delay_s: float, interval_s: float) -> datetime:
    """The newest window end to evaluate: now - delay, rounded down to the interval grid."""
    target = (now - timedelta(seconds=delay_s)).timestamp()
    return datetime.fromtimestamp(math.floor(target / interval_s) * interval_s, UTC)


def plan_ends(
    cursor: datetime | None, end: datetime, window_s: float, interval_s: float, max_catchup_s: float
) -> list[datetime]:
    """Window ends to evaluate now: the newest one, preceded by catch-up steps after a gap."""
    if cursor is None:
        return [end]
    if cursor >= end:
        return []
    start = max(cursor, end - timedelta(seconds=max_catchup_s))
    step = timedelta(seconds=max(interval_s, window_s / 2))
    ends = []
    moment = start + step
    while moment < end:
        ends.append(moment)
        moment += step
    return [*ends, end]


class Watcher:
    """Evaluates compiled rules against Elasticsearch and sends Slack messages."""

    def __init__(
        self,
        settings: Settings,
        rules: list[CompiledRule],
        es: Elasticsearch,
        notifier: SlackNotifier,
        *,
        clock: Callable[[], datetime] = utcnow,
        instance: str | None = None,
        signals: Sequence[Signal] = (),
    ) -> None:
        self._settings = settings
        self._rules = rules
        self._es = es
        self._notifier = notifier
        self._clock = clock
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}"
        self._store = StateStore(es, settings.state_index)
        self._deliverer = Deliverer(self._store, notifier, self.instance, settings.claim_ttl_s)
        # Trace links only where a Jaeger UI is deployed (AMF1_JAEGER_UI_URL; the native Jaeger
        # serves none): the message always names `amf1 trace ID`.
        self._links = Links(settings.kibana_url, settings.jaeger_ui_url, settings.runbook_base_url)
        self._index_ready = False
        self.health = Health(settings.degraded_after_s, self.instance)
        self._outbox: list[dict[str, Any]] = []
        self._signals = tuple(signals)
        self._signal_runs: dict[str, datetime] = {}

    def run_once(self) -> bool:
        """One cycle over every rule; returns whether Elasticsearch answered throughout."""
        now = self._clock()
        try:
            if not self._index_ready:
                self._store.ensure_index()
                self._index_ready = True
            self._run_signals(now)
            for compiled in self._rules:
                self._run_rule(compiled, now)
        except BackendUnavailableError as exc:
            self.health.problem(ELASTICSEARCH, str(exc), now)
        else:
            self.health.clear(ELASTICSEARCH)
        self._outbox.extend(self.health.due_messages(now))
        self._flush_outbox()
        return not self.health.failing(ELASTICSEARCH)

    def run_forever(self, stop: threading.Event) -> None:
        """Cycle every `watch_interval_s` until `stop` is set."""
        interval = self._settings.watch_interval_s
        while not stop.is_set():
            started = time.monotonic()
            self.run_once()
            stop.wait(max(0.0, interval - (time.monotonic() - started)))

    def _run_signals(self, now: datetime) -> None:
        """Run each whole-service signal that is due; one that fails is reported and retried."""
        for signal in self._signals:
            last = self._signal_runs.get(signal.name)
            if last is not None and (now - last).total_seconds() < signal.interval_s:
                continue
            try:
                signal.run(self._es, now)
            except ApiError as exc:
                self.health.problem(
                    f"signal {signal.name}", f"{exc.meta.status} {exc.message}", now
                )
                continue
            except TransportError as exc:
                raise BackendUnavailableError(
                    f"signal {signal.name}: {type(exc).__name__}"
                ) from exc
            self.health.clear(f"signal {signal.name}")
            self._signal_runs[signal.name] = now

    def _run_rule(self, compiled: CompiledRule, now: datetime) -> None:
        settings, rule = self._settings, compiled.rule
        cursor = self._store.get_cursor(rule.id)
        end = grid_end(now, settings.query_delay_s, settings.watch_interval_s)
        ends = plan_ends(
            cursor.doc.evaluated_up_to,
            end,
            rule.window,
            settings.watch_interval_s,
            settings.max_catchup_s,
        )
        active = set(cursor.doc.active_groups)
        # A long catch-up is spread over cycles (the cursor keeps the place) so that the other
        # rules and pending messages are not held up behind it.
        for window_end in ends[:_MAX_STEPS_PER_CYCLE]:
            window = Window.ending(window_end, rule.window)
            try:
                verdicts = self._evaluate(compiled, window, active)
            except ApiError as exc:
                # Elasticsearch refused this rule's query: keep the rule and its cursor, retry
                # next cycle; the health tracker raises "degraded" if it lasts.
                self.health.problem(f"rule {rule.id}", f"{exc.meta.status} {exc.message}", now)
                return
            self.health.clear(f"rule {rule.id}")
            active = {v.group for v in verdicts if self._apply(compiled, v, window, now)}
            cursor = self._advance_cursor(cursor, window_end, active)
        for group in sorted(active):
            self._deliverer.deliver(rule.id, group, now)

    def _evaluate(self, compiled: CompiledRule, window: Window, active: set[str]) -> list[Verdict]:
        rule = compiled.rule
        body = build_search(compiled, window)
        try:
            response = self._es.search(
                index=",".join(index_names(self._settings.index_prefix, window)),
                ignore_unavailable=True,
                allow_no_indices=True,
                **body,
            )
        except ApiError:
            raise
        except TransportError as exc:
            raise BackendUnavailableError(
                f"search of rule {rule.id}: {type(exc).__name__}"
            ) from exc
        observed = {o.group: o for o in parse_response(compiled, dict(response))}
        groups = set(observed) | set(rule.expected_groups) | active
        if not rule.group_by:
            groups = {UNGROUPED}
        return [
            judge(rule, observed.get(group) or missing_observation(rule, group))
            for group in sorted(groups)
        ]

    def _apply(
        self, compiled: CompiledRule, verdict: Verdict, window: Window, now: datetime
    ) -> bool:
        """Persist one verdict's transition; returns whether the group stays active."""
        rule, settings = compiled.rule, self._settings
        for _ in range(_WRITE_ATTEMPTS):
            current = self._store.get_alert(rule.id, verdict.group)
            transition = advance(
                current.doc,
                verdict=verdict,
                window=window,
                rule=rule,
                repeat_after_s=settings.repeat_after_s,
                resolve_after=settings.resolve_after_evaluations,
            )
            if not transition.changed:
                return current.doc.active
            new = transition.state
            if transition.kind is not None:
                payload = build_payload(
                    rule,
                    state=new,
                    kind=transition.kind,
                    verdict=verdict,
                    window=window,
                    links=self._links,
                    search_id=compiled.search.id,
                )
                new.pending.append(make_delivery(new, transition.kind, payload, now))
            try:
                self._store.put_alert(current, new)
            except StateConflictError:
                continue  # another watcher applied a transition first: re-read and re-judge
            if transition.kind is not None:
                self._log_transition(rule.id, new, transition.kind, verdict.value)
            return new.active
        return True

    @staticmethod
    def _log_transition(rule: str, state: AlertState, kind: str, value: float | None) -> None:
        fields = {
            "amf1.alert.rule": rule,
            "amf1.alert.group": state.group,
            "amf1.alert.severity": state.severity,
            "amf1.alert.value": value,
        }
        if kind == "resolved":
            emit(Action.ALERT_RESOLVED, f"alert {rule} resolved", fields)
        else:
            fields["amf1.alert.kind"] = kind
            emit(Action.ALERT_FIRED, f"alert {rule} {kind}", fields)

    def _advance_cursor(
        self, cursor: Versioned[RuleCursor], end: datetime, active: set[str]
    ) -> Versioned[RuleCursor]:
        for _ in range(_WRITE_ATTEMPTS):
            if cursor.doc.evaluated_up_to is not None and cursor.doc.evaluated_up_to >= end:
                return cursor
            doc = RuleCursor(
                rule=cursor.doc.rule, evaluated_up_to=end, active_groups=sorted(active)
            )
            try:
                return self._store.put_cursor(cursor, doc)
            except StateConflictError:
                cursor = self._store.get_cursor(cursor.doc.rule)
        return cursor

    def _flush_outbox(self) -> None:
        """Send the watcher's own messages (kept in memory: Elasticsearch may be the problem)."""
        channel = "critical" if self._notifier.configured("critical") else "alerts"
        while self._outbox:
            if not self._notifier.send(channel, self._outbox[0]).ok:
                return
            self._outbox.pop(0)

"""The watcher loop: evaluate every rule on a time grid, persist transitions, deliver messages.

Window ends sit on a grid of `watch_interval_s` (now - query delay, rounded down), so two
watchers evaluate the same windows and the state's "last window applied" marker makes the second
one a no-op. After an outage (or a restart) the rule's cursor says where it stopped and the
missed span is evaluated in steps of half a window, so an incident that began and ended while the
watcher could not look still fires and resolves. Elasticsearch trouble never stops the loop and
never disables a rule: the cursor simply does not move until it answers again. A rule that fails
otherwise (a bug, a malformed document) is isolated: logged, reported by the health tracker, and
the other rules run on.

A transition's message becomes one delivery per channel of its route (`alerting.routing`); the
channels deliver on their own threads (`alerting.dispatch`), the loop waiting for them at most
until the next cycle is due.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import structlog
from elasticsearch import ApiError, Elasticsearch, TransportError

from alerting.channels import Channels
from alerting.content import AlertMessage
from alerting.deliver import ChannelDeliverer
from alerting.dispatch import ChannelReport, ChannelWork, Dispatcher
from alerting.errors import BackendUnavailableError, StateConflictError, log_fields
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
from alerting.health import CHANNEL, ELASTICSEARCH, Health
from alerting.loading import CompiledRule
from alerting.message import Links, build_message
from alerting.settings import Settings
from alerting.signals import Signal
from alerting.state_machine import AlertState, advance, make_deliveries
from alerting.state_store import RuleCursor, StateStore, Versioned
from logshipping.events import Action, emit

_log = structlog.get_logger("amf1.alerting.watcher")
_WRITE_ATTEMPTS = 5
_MAX_STEPS_PER_CYCLE = 60
# The watcher's own messages waiting for a channel (it may be down for long): the newest kept.
_MAX_OUTBOX = 20


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
    """Evaluates compiled rules against Elasticsearch and sends their messages to the channels."""

    def __init__(
        self,
        settings: Settings,
        rules: list[CompiledRule],
        es: Elasticsearch,
        notifier: Channels,
        *,
        clock: Callable[[], datetime] = utcnow,
        instance: str | None = None,
        signals: Sequence[Signal] = (),
    ) -> None:
        self._settings = settings
        self._rules = rules
        self._es = es
        self._clock = clock
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}"
        self.health = Health(settings.degraded_after_s, self.instance)
        self._store = StateStore(es, settings.state_index, on_set_aside=self._set_aside)
        self._channels = notifier
        self._dispatcher = Dispatcher(
            ChannelDeliverer(self._store, channel, self.instance, settings.claim_ttl_s)
            for channel in notifier
        )
        # Trace links only where a Jaeger UI is deployed (AMF1_JAEGER_UI_URL; the native Jaeger
        # serves none): the message always names `amf1 trace ID`.
        self._links = Links(settings.kibana_url, settings.jaeger_ui_url, settings.runbook_base_url)
        self._index_ready = False
        self._outbox: dict[str, list[AlertMessage]] = defaultdict(list)
        self._told_degraded: set[str] = set()
        self._work: dict[str, ChannelWork] = {}
        self._signals = tuple(signals)
        self._signal_runs: dict[str, datetime] = {}
        self._report_unknown_fields()

    def run_once(self) -> bool:
        """One cycle over every rule; returns whether Elasticsearch answered throughout."""
        started = time.monotonic()
        now = self._clock()
        self._work = {channel: ChannelWork() for channel in self._dispatcher.channels}
        try:
            if not self._index_ready:
                self._store.ensure_index()
                self._index_ready = True
            self._run_signals(now)
            for compiled in self._rules:
                self._run_isolated(compiled, now)
        except BackendUnavailableError as exc:
            self.health.problem(ELASTICSEARCH, str(exc), now)
        else:
            self.health.clear(ELASTICSEARCH)
        self._queue_health_messages(now)
        for channel, messages in self._outbox.items():
            self._work[channel].messages = list(messages)
        wait_s = max(0.0, self._settings.watch_interval_s - (time.monotonic() - started))
        self._take_reports(self._dispatcher.dispatch(self._work, now, wait_s), now)
        return not self.health.failing(ELASTICSEARCH)

    def run_forever(self, stop: threading.Event) -> None:
        """Cycle every `watch_interval_s` until `stop` is set."""
        interval = self._settings.watch_interval_s
        try:
            while not stop.is_set():
                started = time.monotonic()
                self.run_once()
                stop.wait(max(0.0, interval - (time.monotonic() - started)))
        finally:
            self._dispatcher.close()

    def finish(self, timeout_s: float) -> None:
        """Wait (at most `timeout_s`) for deliveries still running, and take their reports."""
        self._take_reports(self._dispatcher.wait(timeout_s), self._clock())

    def _run_isolated(self, compiled: CompiledRule, now: datetime) -> None:
        """Run one rule; anything but Elasticsearch being unreachable stays with that rule."""
        key = f"rule {compiled.rule.id}"
        try:
            self._run_rule(compiled, now)
        except BackendUnavailableError:
            raise
        except Exception as exc:  # noqa: BLE001 - one broken rule must not stop the others
            _log.error(f"rule {compiled.rule.id} failed", **log_fields(exc))
            self.health.problem(key, f"{type(exc).__name__} (a bug; see the log)", now)

    def _report_unknown_fields(self) -> None:
        """A rule whose search names a field the mapping lacks can never fire on that part: the
        watcher is degraded (a configuration alert, sent at the first cycle) until it is fixed."""
        reported_now = self._clock() - timedelta(seconds=self._settings.degraded_after_s)
        for compiled in self._rules:
            if compiled.unknown_fields:
                fields = ", ".join(compiled.unknown_fields)
                self.health.problem(
                    f"rule {compiled.rule.id} configuration",
                    f"saved search {compiled.search.id} queries {fields}, not in the mapping: "
                    "that part matches nothing, so the rule may never fire",
                    reported_now,
                )

    def _set_aside(self, doc_id: str, quarantine_index: str) -> None:
        self.health.notice(
            f"state {doc_id}",
            f"malformed document set aside in {quarantine_index}; its alert starts afresh",
            self._clock(),
        )

    def _queue_health_messages(self, now: datetime) -> None:
        """The watcher's own messages go to the channels that work (the critical route first);
        "recovered" to those told it was degraded."""
        for message in self.health.due_messages(now):
            if message.kind == "recovered":
                channels, self._told_degraded = sorted(self._told_degraded), set()
            else:
                channels = self._channels.for_watcher(self.health.failing_channels)
                self._told_degraded.update(channels)
            for channel in channels:
                self._outbox[channel] = [*self._outbox[channel], message][-_MAX_OUTBOX:]

    def _take_reports(self, reports: list[ChannelReport], now: datetime) -> None:
        for report in reports:
            del self._outbox[report.channel][: report.sent_messages]
            key = f"{CHANNEL}{report.channel}"
            if report.failure is not None:
                self.health.problem(key, report.failure, now)
            elif report.delivered:
                self.health.clear(key)

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
            state = self._store.get_alert(rule.id, group).doc
            for channel in sorted({d.channel for d in state.pending}):
                if channel in self._work:
                    self._work[channel].keys.append((rule.id, group))

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
                message = build_message(
                    rule,
                    state=new,
                    kind=transition.kind,
                    verdict=verdict,
                    window=window,
                    links=self._links,
                    search_id=compiled.search.id,
                )
                routed = self._channels.routed(new.severity or "warning", rule.category)
                new.pending.extend(make_deliveries(new, transition.kind, message, routed, now))
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

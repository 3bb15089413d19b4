"""The content of an alert: summary, value vs threshold, window, count, one example, links.

Links: Kibana Discover opened on the rule's saved search over the window, the example's trace in
Jaeger, and the rule's runbook. The result is channel-neutral data (`alerting.content`); the
notifiers render and escape it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from alerting.content import WATCHER_RULE, AlertMessage, Fact, Link, incident_key
from alerting.evaluate import UNGROUPED, Verdict, Window, flat_get
from alerting.rules import OP_SYMBOL, Rule
from alerting.state_machine import AlertState, Kind

_EXAMPLE_FIELDS = (
    ("driver", "amf1.driver"),
    ("circuit", "amf1.circuit"),
    ("model", "amf1.model.name"),
    ("feature", "amf1.drift.feature"),
    ("error", "error.type"),
)
_MAX_EXAMPLE_MESSAGE = 200
SOURCE = "amf1-service"


@dataclass(frozen=True, slots=True)
class Links:
    """Base URLs the message links to."""

    kibana_url: str
    jaeger_ui_url: str | None  # a served Jaeger UI; None: the message names `amf1 trace ID` only
    runbook_base_url: str | None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def discover_url(links: Links, search_id: str, window: Window) -> str:
    """Kibana Discover on the saved search, time range set to the window (rison in `_g`)."""
    g = f"(filters:!(),time:(from:'{iso(window.start)}',to:'{iso(window.end)}'))"
    return f"{links.kibana_url.rstrip('/')}/app/discover#/view/{quote(search_id)}?_g={quote(g)}"


def trace_url(jaeger_ui_url: str, trace_id: object) -> str:
    """The trace in Jaeger; the id comes from an event, so it is quoted whole."""
    return f"{jaeger_ui_url.rstrip('/')}/trace/{quote(str(trace_id), safe='')}"


def runbook_url(links: Links, rule: Rule) -> str:
    if links.runbook_base_url:
        return f"{links.runbook_base_url.rstrip('/')}/{rule.runbook_path.split('/')[-1]}"
    return rule.runbook_path


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "no data"
    if unit == "ratio":
        return f"{value:.2%}"
    text = f"{value:.4g}"
    return f"{text} {unit}" if unit and unit != "ratio" else text


def _example(example: Mapping[str, Any] | None) -> tuple[Fact, ...]:
    if not example:
        return ()
    facts = [
        Fact(label=label, value=str(value))
        for label, field in _EXAMPLE_FIELDS
        if (value := flat_get(example, field)) is not None
    ]
    text = flat_get(example, "error.message") or flat_get(example, "message")
    if text:
        facts.append(Fact(label="message", value=str(text)[:_MAX_EXAMPLE_MESSAGE]))
    return tuple(facts)


def build_message(
    rule: Rule,
    *,
    state: AlertState,
    kind: Kind,
    verdict: Verdict,
    window: Window,
    links: Links,
    search_id: str,
) -> AlertMessage:
    """The message of one transition of (rule, group)."""
    severity = state.severity or "warning"
    group = f" [{verdict.group}]" if verdict.group != UNGROUPED else ""
    headline = f"{kind.upper()} {severity.upper()}: {rule.title}{group}"
    threshold = f"{OP_SYMBOL[rule.op]} {_number(rule.threshold(severity), rule.unit)}"
    value = _number(verdict.value, rule.unit)
    link_list = [Link(label="Kibana Discover", url=discover_url(links, search_id, window))]
    trace_id = flat_get(verdict.example, "trace.id") if verdict.example else None
    if trace_id and links.jaeger_ui_url:
        link_list.append(Link(label="Jaeger trace", url=trace_url(links.jaeger_ui_url, trace_id)))
    runbook = runbook_url(links, rule)
    if "://" in runbook:
        link_list.append(Link(label="Runbook", url=runbook))
    return AlertMessage(
        kind=kind,
        severity=severity,
        rule=rule.id,
        headline=headline,
        summary=f"{headline} — {value} (threshold {threshold})",
        facts=(
            Fact(label="Value", value=f"{value} (threshold {threshold})"),
            Fact(label="Count", value=str(verdict.count)),
            Fact(label="Window", value=f"{iso(window.start)} → {iso(window.end)}"),
        ),
        example=_example(verdict.example),
        links=tuple(link_list),
        runbook=runbook,
        # Works without the Jaeger UI too: spans and log events in one view.
        trace_command=f"amf1 trace {trace_id}" if trace_id else None,
        incident_key=incident_key(rule.id, state.group, state.fired_at),
        source=SOURCE,
    )


def degraded_message(reason: str, since: datetime, host: str, recovered: bool) -> AlertMessage:
    """The watcher's own alert: something it needs fails (or works again)."""
    if recovered:
        kind, headline = "recovered", f"Watcher recovered on {host}"
        summary = f"{headline}: everything it needs answers again; catching up on the windows "
        summary += f"since {iso(since)}."
    else:
        kind, headline = "degraded", f"Watcher degraded on {host}"
        summary = f"{headline} since {iso(since)}: {reason}. Rules are kept and will be "
        summary += "evaluated for the missed windows when it returns."
    return AlertMessage(
        kind=kind,
        severity="critical",
        rule=WATCHER_RULE,
        headline=headline,
        summary=summary,
        incident_key=incident_key(WATCHER_RULE, host, since),
        source=host,
    )

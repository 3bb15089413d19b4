"""The Slack message of an alert: summary, value vs threshold, window, count, one example, links.

Links: Kibana Discover opened on the rule's saved search over the window, the example's trace in
Jaeger, and the rule's runbook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from alerting.evaluate import UNGROUPED, Verdict, Window, flat_get
from alerting.rules import OP_SYMBOL, Rule
from alerting.state_machine import AlertState, Kind

_ICON = {"fired": ":rotating_light:", "escalated": ":fire:", "repeat": ":repeat:"}
_RESOLVED_ICON = ":white_check_mark:"


@dataclass(frozen=True, slots=True)
class Links:
    """Base URLs the message links to."""

    kibana_url: str
    jaeger_ui_url: str | None  # a served Jaeger UI; None: the message names `amf1 trace ID` only
    runbook_base_url: str | None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def discover_url(links: Links, search_id: str, window: Window) -> str:
    """Kibana Discover on the saved search, time range set to the window (rison in `_g`)."""
    g = f"(filters:!(),time:(from:'{_iso(window.start)}',to:'{_iso(window.end)}'))"
    return f"{links.kibana_url.rstrip('/')}/app/discover#/view/{quote(search_id)}?_g={quote(g)}"


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


def _example_text(example: Mapping[str, Any] | None) -> str:
    if not example:
        return "no example event"
    parts = []
    for label, field in (
        ("driver", "amf1.driver"),
        ("circuit", "amf1.circuit"),
        ("model", "amf1.model.name"),
        ("feature", "amf1.drift.feature"),
        ("error", "error.type"),
    ):
        value = flat_get(example, field)
        if value is not None:
            parts.append(f"{label} `{value}`")
    error_message = flat_get(example, "error.message") or flat_get(example, "message")
    if error_message:
        parts.append(f"“{str(error_message)[:200]}”")
    return ", ".join(parts) or "an event with no domain fields"


def build_payload(
    rule: Rule,
    *,
    state: AlertState,
    kind: Kind,
    verdict: Verdict,
    window: Window,
    links: Links,
    search_id: str,
) -> dict[str, Any]:
    """The webhook body (`text` fallback plus Block Kit sections) for one alert message."""
    severity = state.severity or "warning"
    group = f" [{verdict.group}]" if verdict.group != UNGROUPED else ""
    icon = _RESOLVED_ICON if kind == "resolved" else _ICON[kind]
    head = f"{icon} {kind.upper()} {severity.upper()}: {rule.title}{group}"
    threshold = f"{OP_SYMBOL[rule.op]} {_number(rule.threshold(severity), rule.unit)}"
    facts = (
        f"*Value* {_number(verdict.value, rule.unit)} (threshold {threshold}) · "
        f"*Count* {verdict.count} · *Window* {_iso(window.start)} → {_iso(window.end)}"
    )
    link_list = [f"<{discover_url(links, search_id, window)}|Kibana Discover>"]
    trace_id = flat_get(verdict.example, "trace.id") if verdict.example else None
    if trace_id and links.jaeger_ui_url:
        link_list.append(f"<{links.jaeger_ui_url.rstrip('/')}/trace/{trace_id}|Jaeger trace>")
    if trace_id:  # works without the Jaeger UI too: spans and log events in one view
        link_list.append(f"Trace: `amf1 trace {trace_id}`")
    runbook = runbook_url(links, rule)
    link_list.append(f"<{runbook}|Runbook>" if "://" in runbook else f"Runbook: `{runbook}`")
    lines = [facts, f"*Example* {_example_text(verdict.example)}", " · ".join(link_list)]
    return {
        "text": f"{head} — {_number(verdict.value, rule.unit)} (threshold {threshold}) "
        f"[rule {rule.id}]",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"rule `{rule.id}`"}]},
        ],
    }


def degraded_payload(reason: str, since: datetime, host: str, recovered: bool) -> dict[str, Any]:
    """The watcher's own alert: Elasticsearch (its state store) unreachable or recovered."""
    if recovered:
        text = f"{_RESOLVED_ICON} Watcher recovered on {host}: Elasticsearch answers again; "
        text += f"catching up on the windows since {_iso(since)}."
    else:
        text = f":warning: Watcher degraded on {host} since {_iso(since)}: {reason}. Rules are "
        text += "kept and will be evaluated for the missed windows when it returns."
    return {"text": f"{text} [rule watcher-degraded]"}

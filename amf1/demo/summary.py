"""The demo's closing summary: what Elasticsearch indexed, which alerts went out, where to look."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from amf1.demo.sink import SlackMessage
from amf1.settings import Settings
from amf1.watcher_state import read_alert_records

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch


@dataclass
class Summary:
    """Everything the demo prints at the end."""

    events_total: int = 0
    by_level: dict[str, int] = field(default_factory=dict)
    by_tag: dict[str, int] = field(default_factory=dict)
    by_action: dict[str, int] = field(default_factory=dict)
    alerts: list[dict[str, str]] = field(default_factory=list)
    trace_links: list[tuple[str, str]] = field(default_factory=list)
    kibana_url: str | None = None
    metrics_url: str | None = None
    prometheus_url: str | None = None
    problems: list[str] = field(default_factory=list)


def _terms(aggs: dict[str, Any], name: str) -> dict[str, int]:
    return {str(b["key"]): int(b["doc_count"]) for b in aggs.get(name, {}).get("buckets", [])}


def _since(since: datetime, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    filters: list[dict[str, Any]] = [{"range": {"@timestamp": {"gte": since.isoformat()}}}]
    if extra:
        filters.append(extra)
    return {"bool": {"filter": filters}}


def count_events(
    es: Elasticsearch, settings: Settings, since: datetime, query: dict[str, Any]
) -> int:
    """Log events since `since` that match `query`."""
    result = es.count(
        index=f"{settings.index_prefix}*",
        query=_since(since, query),
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    return int(result["count"])


def indexed_events(
    es: Elasticsearch,
    settings: Settings,
    since: datetime,
    summary: Summary,
    pids: list[int] | None = None,
) -> None:
    """Events indexed since `since` (from the processes `pids` when given), per level/tag/action.

    The log indices are shared (other services, benchmarks, tests may write to them); the demo's
    own processes are told apart by `process.pid`.
    """
    result = es.search(
        index=f"{settings.index_prefix}*",
        size=0,
        track_total_hits=True,
        ignore_unavailable=True,
        allow_no_indices=True,
        query=_since(since, {"terms": {"process.pid": pids}} if pids else None),
        aggs={
            "levels": {"terms": {"field": "log.level", "size": 10}},
            "tags": {"terms": {"field": "tags", "size": 20}},
            "actions": {"terms": {"field": "event.action", "size": 30}},
        },
    )
    summary.events_total = int(result["hits"]["total"]["value"])
    aggs = result.get("aggregations", {})
    summary.by_level = _terms(aggs, "levels")
    summary.by_tag = _terms(aggs, "tags")
    summary.by_action = _terms(aggs, "actions")


def alerts_from_sink(messages: list[SlackMessage]) -> list[dict[str, str]]:
    """Alert rows from the local Slack sink: channel, kind, title, when."""
    return [
        {
            "channel": f"#{m.channel}",
            "kind": m.kind,
            "title": m.title if len(m.title) <= 110 else m.title[:109] + "…",
            "when": f"{m.received_at:%H:%M:%S}Z",
        }
        for m in messages
    ]


def alerts_from_state(
    es: Elasticsearch, settings: Settings, since: datetime
) -> list[dict[str, str]]:
    """Alert rows from the watcher's state index (when a real Slack received the messages)."""
    rows = []
    for record in read_alert_records(es, settings.state_index) or []:
        if record.last_change < since:
            continue
        channel = "#critical" if record.severity == "critical" else "#alerts"
        fired = f"{record.fired_at:%H:%M:%S}Z" if record.fired_at else "-"
        resolved = f", resolved {record.resolved_at:%H:%M:%S}Z" if record.resolved_at else ""
        group = f" [{record.group}]" if record.group else ""
        rows.append(
            {
                "channel": channel,
                "kind": record.state,
                "title": f"{(record.severity or '').upper()}: {record.rule}{group}",
                "when": f"fired {fired}{resolved}",
            }
        )
    return rows


def trace_links(
    trace_ids: list[str], jaeger_ui_url: str | None, limit: int = 5
) -> list[tuple[str, str]]:
    """(trace id, Jaeger UI link) for the first distinct ids; without a served UI
    (`jaeger_ui_url` None) the command that shows the trace instead."""
    seen: list[str] = []
    for trace_id in trace_ids:
        if trace_id and trace_id not in seen:
            seen.append(trace_id)
    if jaeger_ui_url is None:
        return [(t, f"amf1 trace {t}") for t in seen[:limit]]
    base = jaeger_ui_url.rstrip("/")
    return [(t, f"{base}/trace/{t}") for t in seen[:limit]]


def format_summary(summary: Summary, report_path: str | None) -> list[str]:
    """The summary as lines for the terminal."""
    lines = ["", "=== AMF1 demo summary ===", ""]
    lines.append(f"Events indexed in Elasticsearch during the demo: {summary.events_total:,}")
    lines.append("  by level: " + _pairs(summary.by_level))
    lines.append("  by tag:   " + (_pairs(summary.by_tag) or "none"))
    lines.append("  by action: " + _pairs(summary.by_action))
    lines.append("")
    lines.append(f"Alerts sent ({len(summary.alerts)}):")
    width = max((len(a["channel"]) for a in summary.alerts), default=8)
    lines.extend(
        f"  {a['when']:<10} {a['channel']:<{width}} {a['kind']:<9} {a['title']}"
        for a in summary.alerts
    )
    if not summary.alerts:
        lines.append("  none")
    lines.append("")
    lines.append("Example traces (Jaeger):")
    lines.extend(f"  {trace_id}  {link}" for trace_id, link in summary.trace_links)
    if not summary.trace_links:
        lines.append("  none reported by the service")
    lines.append("Find slow or failed predictions (Jaeger's query API, logs from Elasticsearch):")
    lines.append("  amf1 traces --min-duration-ms 200 --since 30m")
    lines.append("  amf1 traces --errors --since 30m")
    lines.append("  amf1 trace <trace id>      (span waterfall with the trace's log events)")
    lines.append("")
    if summary.kibana_url:
        lines.append(f"Kibana: {summary.kibana_url}/app/discover (data view amf1-logs-*)")
    else:
        lines.append(
            "Kibana: not running here (native stack); saved objects are in kibana/saved_objects/"
            ", `amf1 kibana import` loads them where Kibana runs"
        )
    lines.extend(metrics_lines(summary))
    if report_path:
        lines.append(f"Report of the demo: {report_path}")
    lines.extend(f"Note: {problem}" for problem in summary.problems)
    return lines


# Where `amf1 stack up prometheus` runs it (elk.stack.services.PROMETHEUS_PORT).
PROMETHEUS_URL = "http://127.0.0.1:9090"
# A query that answers "is the service healthy" at a glance (docs/metrics.md has more).
EXAMPLE_QUERY = "sum by (model, status) (rate(amf1_predictions_total[5m]))"


def metrics_lines(summary: Summary) -> list[str]:
    """Where the metrics are: the service's endpoint, and a query for Prometheus."""
    if summary.metrics_url is None:
        return []
    lines = [f"Metrics: {summary.metrics_url} (Prometheus text format; docs/metrics.md)"]
    if summary.prometheus_url:
        # The native build of Prometheus has no web UI (not in its Go module): its API answers.
        lines.append(
            f"  query Prometheus: curl -s '{summary.prometheus_url}/api/v1/query' "
            f"--data-urlencode 'query={EXAMPLE_QUERY}'"
        )
    else:
        lines.append(
            f"  query, once Prometheus scrapes it (`amf1 stack up prometheus alertmanager`): "
            f"{EXAMPLE_QUERY}"
        )
    return lines


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value:,}" for key, value in counts.items())

"""Writes the report directory: `report.md`, the PNG charts and `report.json` (the figures)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from amf1.report import plots
from amf1.report.data import ReportData


def _fmt(value: float | None, unit: str = "", digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def _when(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M:%S}Z"


def figures(data: ReportData) -> dict[str, Any]:
    """The report's numbers, machine-readable (also what the tests compare)."""
    return {
        "period": {"start": data.start.isoformat(), "end": data.end.isoformat()},
        "interval": data.interval,
        "predictions": data.predictions,
        "succeeded": data.succeeded,
        "failed": data.failed,
        "rejected": data.rejected,
        "error_ratio": data.error_ratio,
        "latency_ms": data.latency_ms,
        "metrics_latest": data.metrics_last,
        "metrics_worst": data.metrics_max,
        "drift_by_feature": data.drift_by_feature,
        "events_by_level": data.levels,
        "events_by_tag": data.tags,
        "alerts": [
            {
                "rule": a.rule,
                "group": a.group,
                "severity": a.severity,
                "state": a.state,
                "fired_at": a.fired_at.isoformat() if a.fired_at else None,
                "resolved_at": a.resolved_at.isoformat() if a.resolved_at else None,
            }
            for a in data.alerts
        ],
        "mttr_s": data.mttr_s,
    }


def _summary_table(data: ReportData) -> list[str]:
    critical = sum(1 for a in data.alerts if a.severity == "critical")
    levels = data.thresholds
    rows = [
        ("Predictions (reached a model)", f"{data.predictions:,}", ""),
        (
            "Error ratio (5xx / predictions)",
            plots._pct(data.error_ratio),
            f"≤ {plots._pct(levels.error_ratio)}",
        ),
        ("Rejected requests (4xx)", f"{data.rejected:,}", "client errors, not counted"),
        (
            "Latency p50 / p95 / p99",
            " / ".join(plots._ms(data.latency_ms.get(k)) for k in ("p50", "p95", "p99")),
            f"p95 ≤ {plots._ms(1000 * levels.latency_p95_s)}",
        ),
        (
            "Stage-1 MAE latest / worst",
            f"{_fmt(data.metrics_last.get('mae'), ' s')} / "
            f"{_fmt(data.metrics_max.get('mae'), ' s')}",
            f"≤ {_fmt(levels.mae_s[0], ' s')}",
        ),
        (
            "Stage-2 Brier latest / worst",
            f"{_fmt(data.metrics_last.get('brier'))} / {_fmt(data.metrics_max.get('brier'))}",
            f"≤ {_fmt(levels.brier[0])}",
        ),
        ("Drift warnings", f"{sum(data.drift_by_feature.values()):,}", "0"),
        ("Alert incidents", f"{len(data.alerts)} ({critical} critical)", ""),
        ("MTTR (fired → resolved)", plots._duration(data.mttr_s), ""),
    ]
    lines = ["| measure | value | goal |", "| --- | ---: | --- |"]
    lines += [f"| {name} | {value} | {goal} |" for name, value, goal in rows]
    return lines


def _alerts_table(data: ReportData) -> list[str]:
    if not data.alerts:
        return ["No alert fired in this period."]
    lines = [
        "| rule | group | severity | fired | resolved | time to resolve |",
        "| --- | --- | --- | --- | --- | ---: |",
    ]
    for a in sorted(data.alerts, key=lambda a: a.last_change, reverse=True):
        took = (
            plots._duration((a.resolved_at - a.fired_at).total_seconds())
            if a.resolved_at and a.fired_at
            else "still firing"
        )
        lines.append(
            f"| {a.rule} | {a.group or '-'} | {a.severity or '-'} | {_when(a.fired_at)} | "
            f"{_when(a.resolved_at)} | {took} |"
        )
    return lines


def write_report(data: ReportData, out_dir: Path, period: str) -> Path:
    """Write the charts, `report.md` and `report.json` into `out_dir`; returns the Markdown path.

    `period` names the period in the title: "the last 30 days", "the demo run"."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plots.plot_traffic(data, out_dir / "traffic.png")
    plots.plot_latency(data, out_dir / "latency.png")
    plots.plot_model_quality(data, out_dir / "model_quality.png")
    plots.plot_incidents(data, out_dir / "incidents.png")
    plots.plot_events(data, out_dir / "events.png")
    lines = [
        f"# AMF1 report: {period}",
        "",
        f"{_when(data.start)} → {_when(data.end)} (UTC), charts in buckets of {data.interval}.",
        "",
        "## Summary",
        "",
        *_summary_table(data),
        "",
        "## Traffic and errors",
        "",
        "![Predictions per bucket by outcome, with the error ratio](traffic.png)",
        "",
        "## Latency",
        "",
        "![Prediction latency percentiles](latency.png)",
        "",
        "## Model quality (from feedback)",
        "",
        "![Rolling MAE and Brier score against their thresholds](model_quality.png)",
        "",
        "## Alerts and incidents",
        "",
        "![Alert timeline](incidents.png)",
        "",
        *_alerts_table(data),
        "",
        "## Events",
        "",
        "![Events by level and tag, drift by feature](events.png)",
        "",
    ]
    markdown = out_dir / "report.md"
    markdown.write_text("\n".join(lines), encoding="utf-8")
    (out_dir / "report.json").write_text(json.dumps(figures(data), indent=2), encoding="utf-8")
    return markdown

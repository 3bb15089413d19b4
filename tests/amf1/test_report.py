"""`amf1 report`: figures computed by Elasticsearch over planted documents; the files written."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from amf1.report.data import ReportData, Thresholds, choose_interval, collect
from amf1.report.render import write_report
from amf1.watcher_state import AlertRecord
from tests.amf1.conftest import IsolatedIndices

RULES_FILE = Path(__file__).resolve().parents[2] / "alerting" / "rules.yaml"

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def _event(at: dt.datetime, action: str, level: str, **fields: Any) -> dict[str, Any]:
    return {
        "@timestamp": at.isoformat().replace("+00:00", "Z"),
        "event.id": str(uuid.uuid4()),
        "event.action": action,
        "log.level": level,
        "message": action,
        **fields,
    }


def _planted() -> list[dict[str, Any]]:
    docs = []
    for i in range(100):  # durations 1..100 ms, 90 succeeded then 10 failed
        at = NOW - dt.timedelta(hours=6) + dt.timedelta(minutes=3 * i)
        duration = (i + 1) * 1_000_000
        path = {"url.path": "/predict/qualifying", "event.duration": duration}
        if i < 90:
            docs.append(_event(at, "prediction-succeeded", "info", **path))
        else:
            docs.append(
                _event(at, "prediction-failed", "error", tags=["error", "prediction_error"], **path)
            )
    for i in range(10):  # 7 rejected predictions, 3 rejected feedback calls (not predictions)
        path = "/predict/race-winner" if i < 7 else "/feedback"
        docs.append(
            _event(
                NOW - dt.timedelta(hours=2, minutes=i),
                "request-rejected",
                "warning",
                **{"url.path": path, "event.duration": 1000},
            )
        )
    for minutes, metric, value in [
        (300, "mae", 0.30),
        (200, "mae", 0.55),
        (100, "mae", 0.45),
        (250, "brier", 0.20),
        (50, "brier", 0.10),
    ]:
        docs.append(
            _event(
                NOW - dt.timedelta(minutes=minutes),
                "model-performance",
                "info",
                **{"amf1.performance.metric": metric, "amf1.performance.value": value},
            )
        )
    docs.extend(
        _event(
            NOW - dt.timedelta(minutes=30),
            "drift-detected",
            "warning",
            tags=["drift_warning"],
            **{"amf1.drift.feature": feature},
        )
        for feature in ["air_temp_c", "air_temp_c", "air_temp_c", "track_temp_c"]
    )
    # Outside the 2-day window: must not count.
    docs.append(_event(NOW - dt.timedelta(days=3), "prediction-failed", "error", tags=["error"]))
    return docs


def _states() -> list[dict[str, Any]]:
    def iso(delta: dt.timedelta) -> str:
        return (NOW - delta).isoformat()

    return [
        {
            "rule": "prediction-errors",
            "group": "",
            "status": "ok",
            "severity": "critical",
            "fired_at": iso(dt.timedelta(hours=5)),
            "last_notified_at": iso(dt.timedelta(hours=4, minutes=50)),
            "value": 0.1,
        },
        {
            "rule": "drift-warning",
            "group": "air_temp_c",
            "status": "firing",
            "severity": "warning",
            "fired_at": iso(dt.timedelta(hours=2)),
            "last_notified_at": iso(dt.timedelta(hours=2)),
            "value": 3,
        },
        {
            "rule": "silence",
            "group": "",
            "status": "ok",
            "severity": None,
            "fired_at": None,
            "last_notified_at": None,
        },  # never fired: not an incident
    ]


@pytest.mark.integration
def test_report_figures_match_the_planted_documents(
    isolated: IsolatedIndices, tmp_path: Path
) -> None:
    """Counts, error ratio, p95, MAE/Brier, drift, levels, tags, alerts and MTTR are exact."""
    isolated.plant(_planted())
    isolated.plant_alert_states(_states())
    data = collect(isolated.es, isolated.settings, NOW - dt.timedelta(days=2), NOW)
    write_report(data, tmp_path, "the last 2 days")
    figures = json.loads((tmp_path / "report.json").read_text())
    assert (figures["succeeded"], figures["failed"], figures["rejected"]) == (90, 10, 7)
    assert figures["predictions"] == 100
    assert figures["error_ratio"] == pytest.approx(0.10)
    assert figures["latency_ms"]["p95"] == pytest.approx(95.5, abs=1.0)
    assert figures["metrics_latest"] == {"mae": 0.45, "brier": 0.10}
    assert figures["metrics_worst"] == {"mae": 0.55, "brier": 0.20}
    assert figures["drift_by_feature"] == {"air_temp_c": 3, "track_temp_c": 1}
    assert figures["events_by_level"] == {"info": 95, "warning": 14, "error": 10}
    assert figures["events_by_tag"] == {"error": 10, "prediction_error": 10, "drift_warning": 4}
    assert {(a["rule"], a["state"]) for a in figures["alerts"]} == {
        ("prediction-errors", "resolved"),
        ("drift-warning", "firing"),
    }
    assert figures["mttr_s"] == pytest.approx(600.0)
    assert sum(b.succeeded + b.failed for b in data.buckets) == 100


@pytest.mark.integration
def test_report_of_a_past_period_leaves_out_later_incidents(isolated: IsolatedIndices) -> None:
    """A period ending before now (the demo's run, say) reports the incidents it saw: one that
    fired after its end belongs to a later report."""
    isolated.plant_alert_states(_states())
    end = NOW - dt.timedelta(hours=3)
    data = collect(isolated.es, isolated.settings, end - dt.timedelta(days=1), end)
    assert [(a.rule, a.state) for a in data.alerts] == [("prediction-errors", "resolved")]


@pytest.mark.integration
def test_report_writes_markdown_and_every_chart(isolated: IsolatedIndices, tmp_path: Path) -> None:
    """report.md links five PNG charts that exist and are real images."""
    isolated.plant(_planted())
    data = collect(isolated.es, isolated.settings, NOW - dt.timedelta(days=2), NOW)
    markdown = write_report(data, tmp_path, "the last 2 days")
    text = markdown.read_text()
    charts = ["traffic.png", "latency.png", "model_quality.png", "incidents.png", "events.png"]
    for chart in charts:
        assert f"]({chart})" in text
        assert (tmp_path / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| Error ratio (5xx / predictions) | 10.00 % |" in text


@pytest.mark.integration
def test_report_on_an_empty_period_still_renders(isolated: IsolatedIndices, tmp_path: Path) -> None:
    """No indices at all: zero predictions, n/a ratios, charts that say there is no data."""
    data = collect(isolated.es, isolated.settings, NOW - dt.timedelta(days=30), NOW)
    write_report(data, tmp_path, "the last 30 days")
    figures = json.loads((tmp_path / "report.json").read_text())
    assert figures["predictions"] == 0
    assert figures["error_ratio"] is None
    assert figures["alerts"] == []


def test_bucket_width_keeps_charts_readable() -> None:
    """A 10-minute demo gets 1-minute buckets, a 30-day month 12-hour buckets."""
    assert choose_interval(dt.timedelta(minutes=10)) == "1m"
    assert choose_interval(dt.timedelta(hours=6)) == "15m"
    assert choose_interval(dt.timedelta(days=30)) == "12h"


@pytest.mark.parametrize("minutes", [1, 2, 4, 4.7, 10, 90, 60 * 30, 60 * 24 * 40])
def test_every_chart_gets_a_time_axis_for_any_period(tmp_path: Path, minutes: float) -> None:
    """From a one-minute period to a long month, matplotlib finds tick intervals for the time
    axes itself (its fallback warns and labels the axis badly; 3.5-5 minutes, a quick demo's
    length, used to fall there)."""
    start = NOW - dt.timedelta(minutes=minutes)
    incident = AlertRecord(
        "high-latency", "", "ok", "warning", start + (NOW - start) / 3, NOW - (NOW - start) / 3, 1.0
    )
    data = ReportData(start=start, end=NOW, interval="1m", alerts=[incident])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_report(data, tmp_path, "a period")


def test_summary_goals_are_the_levels_the_watcher_alerts_on(tmp_path: Path) -> None:
    """The report compares with the watcher's rules, the shipped ones or a site's own file (the
    Brier goal read "< 0.16" while the watcher alerted at 0.045)."""
    period = {"start": NOW - dt.timedelta(days=1), "end": NOW, "interval": "1h"}
    text = write_report(ReportData(**period), tmp_path / "shipped", "a day").read_text()
    assert "| Stage-2 Brier latest / worst | n/a / n/a | ≤ 0.045 |" in text
    assert "| Stage-1 MAE latest / worst | n/a / n/a | ≤ 0.400 s |" in text
    assert "| n/a | ≤ 1.00 % |" in text
    assert "| p95 ≤ 200.0 ms |" in text
    document = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    for rule in document["rules"]:
        if rule["id"] == "stage2-degradation":
            rule.update(warning=0.05, critical=0.06)
    custom = tmp_path / "rules.yaml"
    custom.write_text(yaml.safe_dump(document), encoding="utf-8")
    data = ReportData(**period, thresholds=Thresholds.from_rules(custom))
    text = write_report(data, tmp_path / "custom", "a day").read_text()
    assert "| Stage-2 Brier latest / worst | n/a / n/a | ≤ 0.050 |" in text

"""The monthly report's figures, read from Elasticsearch with aggregations (no raw-hit paging).

Everything is computed by Elasticsearch over the log indices (`amf1-logs-*`): prediction counts
by outcome, error ratio, latency percentiles, rolling MAE/Brier, drift by feature, and events
per level and tag. Alerts and incidents come from the watcher's state index
(`amf1.watcher_state`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from alerting.rules import load_rules
from amf1.settings import Settings
from amf1.watcher_state import AlertRecord, read_alert_records

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

SUCCEEDED: Final = "prediction-succeeded"
FAILED: Final = "prediction-failed"
REJECTED: Final = "request-rejected"
PERFORMANCE: Final = "model-performance"
DRIFT: Final = "drift-detected"
PREDICTION_PATHS: Final = ("/predict/qualifying", "/predict/race-winner")

# Bucket widths to choose from, so a 30-day month and a 10-minute demo both get ~20-60 points.
_INTERVALS: Final = (
    ("1m", 60),
    ("5m", 300),
    ("15m", 900),
    ("1h", 3600),
    ("3h", 10800),
    ("12h", 43200),
    ("1d", 86400),
)
_TARGET_BUCKETS: Final = 60


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The levels the summary and the charts compare with: those of the watcher's rules, so the
    report and the alerts never disagree."""

    error_ratio: float  # prediction-errors: critical above
    latency_p95_s: float  # high-latency: warning above
    mae_s: tuple[float, float]  # stage1-degradation: warning, critical above
    brier: tuple[float, float]  # stage2-degradation: warning, critical above

    @classmethod
    def from_rules(cls, path: Path | None = None) -> Thresholds:
        """Read them from the rules file (default: the watcher's, `AMF1_RULES_FILE`)."""
        if path is None:
            from alerting.settings import Settings as WatcherSettings  # noqa: PLC0415

            path = WatcherSettings().rules_file
        rules = {rule.id: rule for rule in load_rules(path)}

        def levels(rule_id: str) -> tuple[float, float]:
            rule = rules[rule_id]
            return rule.threshold("warning"), rule.threshold("critical")

        return cls(
            error_ratio=rules["prediction-errors"].threshold("critical"),
            latency_p95_s=rules["high-latency"].threshold("warning"),
            mae_s=levels("stage1-degradation"),
            brier=levels("stage2-degradation"),
        )


@dataclass(frozen=True, slots=True)
class Bucket:
    """One time bucket of the trend charts."""

    start: datetime
    succeeded: int
    failed: int
    rejected: int
    latency_ms: dict[str, float | None]
    metrics: dict[str, float]

    @property
    def error_ratio(self) -> float | None:
        """failed / (succeeded + failed); None without predictions."""
        total = self.succeeded + self.failed
        return self.failed / total if total else None


@dataclass
class ReportData:
    """Everything the Markdown and the plots show."""

    start: datetime
    end: datetime
    interval: str
    buckets: list[Bucket] = field(default_factory=list)
    succeeded: int = 0
    failed: int = 0
    rejected: int = 0
    latency_ms: dict[str, float | None] = field(default_factory=dict)
    metrics_last: dict[str, float] = field(default_factory=dict)
    metrics_max: dict[str, float] = field(default_factory=dict)
    drift_by_feature: dict[str, int] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)
    tags: dict[str, int] = field(default_factory=dict)
    alerts: list[AlertRecord] = field(default_factory=list)
    thresholds: Thresholds = field(default_factory=Thresholds.from_rules)

    @property
    def predictions(self) -> int:
        """Prediction requests that reached a model (succeeded or failed; not rejected)."""
        return self.succeeded + self.failed

    @property
    def error_ratio(self) -> float | None:
        """failed / predictions over the whole period."""
        return self.failed / self.predictions if self.predictions else None

    @property
    def mttr_s(self) -> float | None:
        """Mean time from firing to resolved over the resolved incidents, seconds."""
        durations = [
            (a.resolved_at - a.fired_at).total_seconds()
            for a in self.alerts
            if a.resolved_at is not None and a.fired_at is not None
        ]
        return sum(durations) / len(durations) if durations else None


def choose_interval(span: timedelta) -> str:
    """The smallest bucket width that keeps the span within about 60 buckets."""
    seconds = max(span.total_seconds(), 1.0)
    for name, width in _INTERVALS:
        if seconds / width <= _TARGET_BUCKETS:
            return name
    return _INTERVALS[-1][0]


def _outcome_filters() -> dict[str, Any]:
    return {
        "filters": {
            "filters": {
                "succeeded": {"term": {"event.action": SUCCEEDED}},
                "failed": {"term": {"event.action": FAILED}},
                "rejected": {
                    "bool": {
                        "filter": [
                            {"term": {"event.action": REJECTED}},
                            {"terms": {"url.path": list(PREDICTION_PATHS)}},
                        ]
                    }
                },
            }
        }
    }


def _latency() -> dict[str, Any]:
    return {
        "filter": {"terms": {"event.action": [SUCCEEDED, FAILED]}},
        "aggs": {"pct": {"percentiles": {"field": "event.duration", "percents": [50, 95, 99]}}},
    }


def _metrics() -> dict[str, Any]:
    return {
        "filter": {"term": {"event.action": PERFORMANCE}},
        "aggs": {
            "by_metric": {
                "terms": {"field": "amf1.performance.metric", "size": 5},
                "aggs": {
                    "avg": {"avg": {"field": "amf1.performance.value"}},
                    "max": {"max": {"field": "amf1.performance.value"}},
                    # top_hits, not top_metrics: the latter is missing from minimal distributions.
                    "last": {
                        "top_hits": {
                            "size": 1,
                            "sort": [{"@timestamp": "desc"}],
                            "_source": {"includes": ["amf1.performance.value"]},
                        }
                    },
                },
            }
        },
    }


def _percentiles_ms(agg: dict[str, Any]) -> dict[str, float | None]:
    values = agg.get("pct", {}).get("values", {})
    out: dict[str, float | None] = {}
    for name, key in (("p50", "50.0"), ("p95", "95.0"), ("p99", "99.0")):
        value = values.get(key)
        out[name] = round(value / 1e6, 2) if value is not None else None
    return out


def _metric_values(agg: dict[str, Any], kind: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for bucket in agg.get("by_metric", {}).get("buckets", []):
        if kind == "last":
            hits = bucket["last"]["hits"]["hits"]
            value = _source_value(hits[0]["_source"], "amf1.performance.value") if hits else None
        else:
            value = bucket[kind]["value"]
        if value is not None:
            out[str(bucket["key"])] = round(float(value), 4)
    return out


def _source_value(source: dict[str, Any], dotted: str) -> Any:
    """A field of `_source`, stored flat (`"a.b"`, our events) or as nested objects."""
    if dotted in source:
        return source[dotted]
    value: Any = source
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _terms(agg: dict[str, Any]) -> dict[str, int]:
    return {str(b["key"]): int(b["doc_count"]) for b in agg.get("buckets", [])}


def _search(es: Elasticsearch, index: str, query: dict[str, Any], aggs: dict[str, Any]) -> Any:
    result = es.search(
        index=index,
        size=0,
        query=query,
        aggs=aggs,
        track_total_hits=True,
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    return result.get("aggregations", {})


def _aggregations(interval: str, data_start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "outcomes": _outcome_filters(),
        "latency": _latency(),
        "metrics": _metrics(),
        "drift": {
            "filter": {"term": {"event.action": DRIFT}},
            "aggs": {"features": {"terms": {"field": "amf1.drift.feature", "size": 20}}},
        },
        "levels": {"terms": {"field": "log.level", "size": 10}},
        "tags": {"terms": {"field": "tags", "size": 20}},
        "over_time": {
            "date_histogram": {
                "field": "@timestamp",
                "fixed_interval": interval,
                "min_doc_count": 0,
                "extended_bounds": {"min": data_start.isoformat(), "max": end.isoformat()},
            },
            "aggs": {"outcomes": _outcome_filters(), "latency": _latency(), "metrics": _metrics()},
        },
    }


def _bucket(raw: dict[str, Any]) -> Bucket:
    counts = raw["outcomes"]["buckets"]
    return Bucket(
        start=datetime.fromtimestamp(raw["key"] / 1000, UTC),
        succeeded=int(counts["succeeded"]["doc_count"]),
        failed=int(counts["failed"]["doc_count"]),
        rejected=int(counts["rejected"]["doc_count"]),
        latency_ms=_percentiles_ms(raw["latency"]),
        metrics=_metric_values(raw["metrics"], "avg"),
    )


def collect(es: Elasticsearch, settings: Settings, start: datetime, end: datetime) -> ReportData:
    """Query the logs and the watcher state of the period `start`..`end` into a `ReportData`.

    The chart buckets span from the first event in the period (not the period's start), so a
    young installation gets readable charts instead of 29 empty days.
    """
    index = f"{settings.index_prefix}*"
    window = {"range": {"@timestamp": {"gte": start.isoformat(), "lte": end.isoformat()}}}
    span = _search(es, index, window, {"first": {"min": {"field": "@timestamp"}}})
    first = span.get("first", {}).get("value")
    data_start = datetime.fromtimestamp(first / 1000, UTC) if first is not None else start
    interval = choose_interval(end - data_start)
    result = _search(es, index, window, _aggregations(interval, data_start, end))
    records = read_alert_records(es, settings.state_index) or []
    alerts = [r for r in records if r.last_change >= start and (r.fired_at or end) <= end]
    if "outcomes" not in result:  # no log index at all: Elasticsearch returns no aggregations
        return ReportData(start=start, end=end, interval=interval, alerts=alerts)
    outcomes = result["outcomes"]["buckets"]
    return ReportData(
        start=start,
        end=end,
        interval=interval,
        buckets=[_bucket(raw) for raw in result["over_time"]["buckets"]],
        succeeded=int(outcomes["succeeded"]["doc_count"]),
        failed=int(outcomes["failed"]["doc_count"]),
        rejected=int(outcomes["rejected"]["doc_count"]),
        latency_ms=_percentiles_ms(result["latency"]),
        metrics_last=_metric_values(result["metrics"], "last"),
        metrics_max=_metric_values(result["metrics"], "max"),
        drift_by_feature=_terms(result["drift"]["features"]),
        levels=_terms(result["levels"]),
        tags=_terms(result["tags"]),
        alerts=alerts,
    )

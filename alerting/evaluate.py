"""One evaluation of one rule over one window: the search request, and its answer per group.

The request touches only the daily indices the window's UTC dates name (`ignore_unavailable`,
so a day without events is not an error). One request per rule: the rule's search, plus the
numerator search for ratios, with aggregations per group (or over everything).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from alerting.loading import CompiledRule
from alerting.rules import MetricCondition, RatioCondition, Rule, Severity

EXAMPLE_FIELDS = (
    "event.id",
    "@timestamp",
    "message",
    "amf1.driver",
    "amf1.circuit",
    "amf1.model.name",
    "amf1.drift.feature",
    "error.type",
    "error.message",
    "trace.id",
)
_MAX_GROUPS = 100
UNGROUPED = ""


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time range [start, end) in UTC."""

    start: datetime
    end: datetime

    @classmethod
    def ending(cls, end: datetime, length_s: float) -> Window:
        return cls(end - timedelta(seconds=length_s), end)


@dataclass(frozen=True, slots=True)
class Observation:
    """What a window held for one group: hit count, the condition's value, the newest example."""

    group: str
    count: int
    value: float | None
    example: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The rule's judgement of one group: the breached severity (None: clean) and why."""

    group: str
    severity: Severity | None
    value: float | None
    count: int
    example: Mapping[str, Any] | None


def index_names(prefix: str, window: Window) -> list[str]:
    """The daily index names (`<prefix>YYYY.MM.dd`, UTC) of every date the window touches."""
    day = window.start.astimezone(UTC).date()
    last = window.end.astimezone(UTC).date()
    names = []
    while day <= last:
        names.append(f"{prefix}{day:%Y.%m.%d}")
        day += timedelta(days=1)
    return names


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _top_hit(time_field: str, fields: tuple[str, ...]) -> dict[str, Any]:
    return {
        "top_hits": {
            "size": 1,
            "sort": [{time_field: {"order": "desc"}}],
            "_source": {"includes": list(fields)},
        }
    }


def _bucket_aggs(compiled: CompiledRule) -> dict[str, Any]:
    rule, time_field = compiled.rule, compiled.time_field
    condition = rule.condition
    example_fields = (*EXAMPLE_FIELDS, *((rule.group_by,) if rule.group_by else ()))
    if isinstance(condition, RatioCondition):
        assert compiled.numerator_query is not None
        return {
            "numerator": {
                "filter": compiled.numerator_query,
                "aggs": {"example": _top_hit(time_field, example_fields)},
            },
            "denominator": {"filter": compiled.query},
        }
    aggs: dict[str, Any] = {"example": _top_hit(time_field, example_fields)}
    if isinstance(condition, MetricCondition):
        field = condition.field
        if condition.agg == "latest":
            aggs["metric"] = _top_hit(time_field, (field,))
        elif condition.agg == "percentile":
            aggs["metric"] = {"percentiles": {"field": field, "percents": [condition.percent]}}
        else:
            aggs["metric"] = {condition.agg: {"field": field}}
    return aggs


def build_search(compiled: CompiledRule, window: Window) -> dict[str, Any]:
    """The body of the rule's search request over `window`."""
    rule = compiled.rule
    time_range = {
        "range": {
            compiled.time_field: {
                "gte": _iso(window.start),
                "lt": _iso(window.end),
                "format": "strict_date_optional_time",
            }
        }
    }
    query = compiled.query
    if compiled.numerator_query is not None:
        query = {"bool": {"should": [compiled.numerator_query, query], "minimum_should_match": 1}}
    aggs = _bucket_aggs(compiled)
    if rule.group_by:
        aggs = {"groups": {"terms": {"field": rule.group_by, "size": _MAX_GROUPS}, "aggs": aggs}}
    return {
        "size": 0,
        "track_total_hits": True,
        "query": {"bool": {"filter": [query, time_range]}},
        "aggs": aggs,
    }


def flat_get(source: Mapping[str, Any], dotted: str) -> Any:
    """A field of `_source`, whether it was indexed flat (`"a.b"`) or as objects (`a: {b:}`)."""
    if dotted in source:
        return source[dotted]
    head, _, rest = dotted.partition(".")
    inner = source.get(head)
    if rest and isinstance(inner, Mapping):
        return flat_get(inner, rest)
    return None


def _first_source(top_hits: Mapping[str, Any]) -> Mapping[str, Any] | None:
    hits = top_hits.get("hits", {}).get("hits", [])
    return hits[0].get("_source", {}) if hits else None


def _metric_value(compiled: CompiledRule, bucket: Mapping[str, Any]) -> float | None:
    condition = compiled.rule.condition
    assert isinstance(condition, MetricCondition)
    metric = bucket.get("metric", {})
    if condition.agg == "latest":
        source = _first_source(metric)
        raw = flat_get(source, condition.field) if source is not None else None
    elif condition.agg == "percentile":
        raw = next(iter((metric.get("values") or {}).values()), None)
    else:
        raw = metric.get("value")
    if raw is None or isinstance(raw, str):
        return None
    return float(raw) * condition.scale


def _observe(compiled: CompiledRule, group: str, bucket: Mapping[str, Any]) -> Observation:
    condition = compiled.rule.condition
    if isinstance(condition, RatioCondition):
        failed = int(bucket["numerator"]["doc_count"])
        total = int(bucket["denominator"]["doc_count"])
        value = failed / total if total >= condition.min_sample else None
        return Observation(group, total, value, _first_source(bucket["numerator"]["example"]))
    count = int(bucket.get("doc_count", 0))
    example = _first_source(bucket["example"]) if "example" in bucket else None
    if isinstance(condition, MetricCondition):
        value = _metric_value(compiled, bucket) if count >= condition.min_sample else None
        return Observation(group, count, value, example)
    return Observation(group, count, float(count), example)


def parse_response(compiled: CompiledRule, response: Mapping[str, Any]) -> list[Observation]:
    """One observation per group present in the answer (ungrouped: exactly one)."""
    aggs = response.get("aggregations")
    if aggs is None:
        # No index of the window's days exists: Elasticsearch answers without aggregations.
        rule = compiled.rule
        return [] if rule.group_by else [missing_observation(rule, UNGROUPED)]
    if not compiled.rule.group_by:
        bucket = {**aggs, "doc_count": response["hits"]["total"]["value"]}
        return [_observe(compiled, UNGROUPED, bucket)]
    return [_observe(compiled, str(b["key"]), b) for b in aggs["groups"]["buckets"]]


def judge(rule: Rule, observation: Observation) -> Verdict:
    """Compare an observation with the rule's thresholds.

    A value of None (no data, or fewer hits than `min_sample`) breaches only for a metric rule
    with `on_missing: fire` and no hits at all, at the rule's highest configured severity.
    """
    severity: Severity | None = None
    if observation.value is not None:
        severity = rule.severity_of(observation.value)
    elif rule.on_missing == "fire" and observation.count == 0:
        severity = "critical" if rule.critical is not None else "warning"
    return Verdict(
        observation.group, severity, observation.value, observation.count, observation.example
    )


def missing_observation(rule: Rule, group: str) -> Observation:
    """The observation of a group with no hit in the window (count rules: a count of zero)."""
    value = 0.0 if rule.condition.type == "count" else None
    return Observation(group, 0, value, None)

"""Drift and missing-data rates over all traffic: the watcher's `drift` and `missing-data` signals.

Workers bin their rows and log `drift-counts` events (`alerting.signals.drift_counts`); these
signals add up every worker's counts over the drift window (the newest reports of a model
version until `window_size` rows, none older than `window_max_age_s`) and log, for the whole
service:

- `drift-detected` per drifted feature of a model version (`alerting.signals.drift_score`),
  at most once per `cooldown_s` per feature. The cooldown is read from the `drift-detected`
  events already in Elasticsearch, not kept in memory, so several watchers and a restarted one
  agree;
- `missing-data-rate` per model (over its newest reports of any version), every
  `missing_report_interval_s`, at warning level above `missing_rate_threshold`; nothing while
  the window holds fewer than `min_samples` rows (the rate of a handful of requests is noise).

Events are stamped with the watcher's `now` and carry `signal_event_id`s, so two watchers index
one document per value.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import structlog
from elasticsearch import Elasticsearch

from alerting import metrics
from alerting.evaluate import Window, index_names
from alerting.signals import signal_event_id
from alerting.signals.drift_counts import (
    COUNTS_FIELD,
    MODEL_NAME_FIELD,
    MODEL_VERSION_FIELD,
    ROWS_FIELD,
    CountsFormatError,
    CountsReport,
    MergedCounts,
    missing,
    parse_report,
    window,
)
from alerting.signals.drift_score import (
    DriftScoring,
    FeatureScore,
    drifted,
    past_cooldown,
    score_all,
    summary,
)
from logshipping.events import Action, Level, emit

_log = structlog.get_logger("amf1.watcher")

_PAGE: Final = 200
_MAX_MODELS: Final = 50
_MAX_VERSIONS: Final = 20
_MAX_FEATURES: Final = 500


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


class _Reader:
    """The Elasticsearch queries both signals share."""

    def __init__(self, scoring: DriftScoring, index_prefix: str) -> None:
        self.scoring = scoring
        self.prefix = index_prefix

    def _search(
        self, es: Elasticsearch, now: datetime, length_s: float, **body: Any
    ) -> Mapping[str, Any]:
        window = Window.ending(now, length_s)
        response = es.search(
            index=",".join(index_names(self.prefix, window)),
            ignore_unavailable=True,
            allow_no_indices=True,
            **body,
        )
        found: Mapping[str, Any] = response.body
        return found

    @staticmethod
    def _filter(now: datetime, length_s: float, action: Action, **terms: str) -> dict[str, Any]:
        start = now - timedelta(seconds=length_s)
        clauses: list[dict[str, Any]] = [
            {"term": {"event.action": action.value}},
            {"range": {"@timestamp": {"gt": _iso(start), "lte": _iso(now)}}},
            *({"term": {field: value}} for field, value in terms.items()),
        ]
        return {"bool": {"filter": clauses}}

    def versions(self, es: Elasticsearch, now: datetime) -> dict[str, list[str]]:
        """Model name -> the versions that reported counts within the max age."""
        age = self.scoring.window_max_age_s
        response = self._search(
            es,
            now,
            age,
            size=0,
            query=self._filter(now, age, Action.DRIFT_COUNTS),
            aggs={
                "models": {
                    "terms": {"field": MODEL_NAME_FIELD, "size": _MAX_MODELS},
                    "aggs": {
                        "versions": {"terms": {"field": MODEL_VERSION_FIELD, "size": _MAX_VERSIONS}}
                    },
                }
            },
        )
        buckets = response.get("aggregations", {}).get("models", {}).get("buckets", [])
        return {
            str(model["key"]): [str(v["key"]) for v in model["versions"]["buckets"]]
            for model in buckets
        }

    def reports(
        self, es: Elasticsearch, now: datetime, model: str, version: str | None = None
    ) -> Iterator[CountsReport]:
        """The model's (version's) reports within the max age, newest first, page by page."""
        age = self.scoring.window_max_age_s
        terms = {MODEL_NAME_FIELD: model}
        if version is not None:
            terms[MODEL_VERSION_FIELD] = version
        after: list[Any] | None = None
        skipped = 0
        while True:
            page = self._search(
                es,
                now,
                age,
                size=_PAGE,
                query=self._filter(now, age, Action.DRIFT_COUNTS, **terms),
                sort=[{"@timestamp": "desc"}, {"event.id": "asc"}],
                source=[MODEL_NAME_FIELD, MODEL_VERSION_FIELD, ROWS_FIELD, COUNTS_FIELD],
                **({"search_after": after} if after is not None else {}),
            )
            hits = page.get("hits", {}).get("hits", [])
            for hit in hits:
                try:
                    yield parse_report(hit["_source"])
                except CountsFormatError as exc:
                    skipped += 1
                    if skipped == 1:
                        _log.warning("drift-counts event skipped", reason=str(exc), id=hit["_id"])
            if len(hits) < _PAGE:
                return
            after = hits[-1]["sort"]

    def last_reported(
        self, es: Elasticsearch, now: datetime, model: str, version: str
    ) -> dict[str, datetime]:
        """Feature -> its newest `drift-detected` event of the model version, within the
        cooldown (older ones cannot hold a report back)."""
        cooldown = self.scoring.cooldown_s
        if cooldown <= 0:
            return {}
        terms = {MODEL_NAME_FIELD: model, MODEL_VERSION_FIELD: version}
        response = self._search(
            es,
            now,
            cooldown,
            size=0,
            query=self._filter(now, cooldown, Action.DRIFT_DETECTED, **terms),
            aggs={
                "features": {
                    "terms": {"field": "amf1.drift.feature", "size": _MAX_FEATURES},
                    "aggs": {"last": {"max": {"field": "@timestamp"}}},
                }
            },
        )
        buckets = response.get("aggregations", {}).get("features", {}).get("buckets", [])
        return {
            str(bucket["key"]): datetime.fromtimestamp(bucket["last"]["value"] / 1000, UTC)
            for bucket in buckets
        }


class DriftSignal:
    """Scores every model version's merged counts; logs `drift-detected` per drifted feature."""

    name = "drift"

    def __init__(self, scoring: DriftScoring, index_prefix: str) -> None:
        self.scoring = scoring
        self.interval_s = scoring.score_interval_s
        self._reader = _Reader(scoring, index_prefix)

    def run(self, es: Elasticsearch, now: datetime) -> None:
        """Score each model version that reported within the max age (see the module)."""
        scoring = self.scoring
        for model, versions in self._reader.versions(es, now).items():
            for version in versions:
                try:
                    merged, found = drifted(self._reader.reports(es, now, model, version), scoring)
                except CountsFormatError as exc:
                    _log.warning("drift counts not merged", reason=str(exc), model=model)
                    continue
                # The gauge shows every scored feature, drifted or not (Prometheus alerts on it).
                for feature in score_all(merged, scoring):
                    if feature.score is not None:
                        metrics.record_drift(model, feature.feature, feature.score)
                if not found:
                    continue
                last = self._reader.last_reported(es, now, model, version)
                for score in past_cooldown(found, last, now, scoring.cooldown_s):
                    self._emit(model, version, score, merged, now)

    def _emit(
        self, model: str, version: str, score: FeatureScore, merged: MergedCounts, now: datetime
    ) -> None:
        assert score.score is not None  # only drifted (scored, tested) features get here
        text = summary(merged.features[score.feature])
        threshold, rows = self.scoring.psi_threshold, merged.rows
        key = f"{model}/{version}/{score.feature}"
        emit(
            Action.DRIFT_DETECTED,
            f"Input drift on {score.feature!r} for {model}: PSI {score.score:.3f} > "
            f"{threshold} over the last {rows} requests of all workers; {text}",
            {
                "@timestamp": _iso(now),
                "event.id": signal_event_id(self.name, key, now, self.interval_s),
                MODEL_NAME_FIELD: model,
                MODEL_VERSION_FIELD: version,
                "amf1.drift.feature": score.feature,
                "amf1.drift.score": round(score.score, 6),
                "amf1.drift.threshold": threshold,
                "amf1.drift.method": "psi",
                "amf1.drift.p_value": score.p_value,
                "amf1.drift.window_size": rows,
                "amf1.drift.summary": text,
            },
        )


class MissingDataSignal:
    """Logs each model's `missing-data-rate` over all traffic (see the module)."""

    name = "missing-data"

    def __init__(self, scoring: DriftScoring, index_prefix: str) -> None:
        self.scoring = scoring
        self.interval_s = scoring.missing_report_interval_s
        self._reader = _Reader(scoring, index_prefix)

    def run(self, es: Elasticsearch, now: datetime) -> None:
        """One `missing-data-rate` event per model with at least `min_samples` recent rows."""
        scoring = self.scoring
        for model in self._reader.versions(es, now):
            reports = window(self._reader.reports(es, now, model), scoring.window_size)
            counts = missing(reports, scoring.ignore_features)
            if counts.rows < scoring.min_samples:
                continue
            metrics.record_missing_rate(model, counts.rate)
            threshold = scoring.missing_rate_threshold
            level: Level = "warning" if counts.rate > threshold else "info"
            worst = max(counts.by_feature.items(), key=lambda item: item[1], default=None)
            worst_part = (
                f"; most missing: {worst[0]!r} {worst[1] / counts.rows:.1%}"
                if worst is not None and worst[1]
                else ""
            )
            emit(
                Action.MISSING_DATA_RATE,
                f"Missing input values for {model}: {counts.rate:.2%} of values in the last "
                f"{counts.rows} requests of all workers (threshold {threshold:.0%}){worst_part}",
                {
                    "@timestamp": _iso(now),
                    "event.id": signal_event_id(self.name, model, now, self.interval_s),
                    MODEL_NAME_FIELD: model,
                    MODEL_VERSION_FIELD: reports[0].model_version,
                    "amf1.data.missing_rate": round(counts.rate, 6),
                    "amf1.drift.window_size": counts.rows,
                },
                level=level,
            )


def drift_signals(
    scoring: DriftScoring, index_prefix: str
) -> tuple[DriftSignal, MissingDataSignal]:
    """Both signals, as `build_watcher` runs them."""
    return DriftSignal(scoring, index_prefix), MissingDataSignal(scoring, index_prefix)

"""The `performance` signal: rolling MAE and Brier of the whole service, from its logs.

Every `interval_s`, for each model, it reads the newest `feedback-received` events of that
model's outcome kind (a lap time for stage 1, a winner for stage 2), newest first in pages, looks
their predictions up by `amf1.prediction.id` (terms queries in chunks, on the days the ids'
UUIDv7 times name), joins them (`alerting.signals.outcomes`) and logs one `model-performance`
event per model as the service used to, with one `event.id` per model per interval.

Feedback that cannot be joined is judged once, in the interval it becomes final (older than
`grace_s`, so a prediction still in the log pipeline is not called missing), and logged as one
`feedback-unmatched` event per interval with the count by reason.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from elasticsearch import Elasticsearch

from alerting import metrics
from alerting.evaluate import Window, index_names
from alerting.rules import Rule
from alerting.signals import signal_event_id
from alerting.signals.outcomes import (
    FEEDBACK_LAP_TIME,
    FEEDBACK_WINNER,
    PREDICTION_ID,
    REASONS,
    Feedback,
    Joined,
    Metric,
    Performance,
    PerformanceConfig,
    Prediction,
    feedback_from,
    first_feedback,
    join,
    pair_count,
    prediction_from,
    rolling,
)
from logshipping.events import Action, Level, emit

# The outcome field of each model's feedback.
OUTCOME_FIELD: Final[Mapping[str, str]] = {
    "stage1-qualifying": FEEDBACK_LAP_TIME,
    "stage2-race-winner": FEEDBACK_WINNER,
}
# The alert rules whose levels also set the level of each metric's `model-performance` event:
# the event and the alert agree, and the thresholds live only in the rules file.
LEVEL_RULES: Final[Mapping[Metric, str]] = {
    "mae": "stage1-degradation",
    "brier": "stage2-degradation",
}
_FEEDBACK_SOURCE: Final = [
    PREDICTION_ID,
    FEEDBACK_LAP_TIME,
    FEEDBACK_WINNER,
    "@timestamp",
    "event.id",
]
_PREDICTION_SOURCE: Final = ["amf1.prediction.*", "amf1.model.*", "@timestamp"]
# A prediction's event is written a moment after its id is made (and replicas' clocks differ).
_ID_SKEW: Final = timedelta(minutes=5)
_LISTED_IDS: Final = 20


def level_rules(rules: Iterable[Rule]) -> dict[Metric, Rule]:
    """The rules of `LEVEL_RULES` found in `rules` (a metric without one logs at info)."""
    by_id = {rule.id: rule for rule in rules}
    return {metric: by_id[rule_id] for metric, rule_id in LEVEL_RULES.items() if rule_id in by_id}


@dataclass(frozen=True, slots=True)
class Limits:
    """How much the signal reads per model and interval."""

    page_size: int = 1000
    chunk_size: int = 1000
    max_feedback: int = 20_000


class PerformanceSignal:
    """Rolling MAE / Brier of the whole service, and the feedback that cannot be matched."""

    name = "performance"

    def __init__(
        self,
        config: PerformanceConfig,
        *,
        index_prefix: str,
        levels: Mapping[Metric, Rule] | None = None,
        service_name: str | None = None,
        limits: Limits | None = None,
    ) -> None:
        """
        Args:
            config: window, cadence, look-back and grace.
            index_prefix: the daily log indices' prefix (`amf1-logs-`).
            levels: the rule whose thresholds set each metric's event level (`level_rules`).
            service_name: read only this service's events (None: every service's).
            limits: page, chunk and total sizes of the reads.
        """
        self._scope = [{"term": {"service.name": service_name}}] if service_name else []
        self.config = config
        self.levels = dict(levels or {})
        self.interval_s = config.interval_s
        self.index_prefix = index_prefix
        self.lookback = timedelta(seconds=config.lookback_s)
        self.grace = timedelta(seconds=config.grace_s)
        self.limits = limits or Limits()

    def run(self, es: Elasticsearch, now: datetime) -> None:
        """Log the models' `model-performance` and this interval's `feedback-unmatched` events."""
        slot = self.unmatched_slot(now)
        unmatched: list[tuple[Feedback, str]] = []
        for model, outcome_field in OUTCOME_FIELD.items():
            joined = self._join(es, model, outcome_field, now, slot)
            performance = rolling(joined.matched, model, self.config)
            if performance is not None:
                self._log_performance(performance, now)
            unmatched += [(f, why) for f, why in joined.unmatched if slot.start <= f.at < slot.end]
        self._log_unmatched(unmatched, slot, now)

    def unmatched_slot(self, now: datetime) -> Window:
        """The feedback judged at `now`: the interval that ended at least `grace_s` ago.

        On the interval grid, so that every run (and every watcher) judges each feedback once.
        """
        final = (now - self.grace).timestamp()
        end = math.floor(final / self.interval_s) * self.interval_s
        return Window(
            datetime.fromtimestamp(end - self.interval_s, UTC), datetime.fromtimestamp(end, UTC)
        )

    def _join(
        self, es: Elasticsearch, model: str, outcome_field: str, now: datetime, slot: Window
    ) -> Joined:
        """Read feedback newest first until the window is full and the slot is covered."""
        read: list[Feedback] = []
        predictions: dict[str, Prediction] = {}
        looked_up: set[str] = set()
        after: list[Any] | None = None
        while True:
            page, after = self._feedback_page(es, outcome_field, now, after)
            read += page
            new_ids = {f.prediction_id for f in page} - looked_up
            looked_up |= new_ids
            predictions.update(self._predictions(es, new_ids))
            joined = join(first_feedback(read), predictions, final_before=slot.end)
            if after is None or len(read) >= self.limits.max_feedback:
                return joined
            full = pair_count(joined.matched, model) >= self.config.window
            if full and read[-1].at < slot.start:
                return joined

    def _feedback_page(
        self, es: Elasticsearch, outcome_field: str, now: datetime, after: list[Any] | None
    ) -> tuple[list[Feedback], list[Any] | None]:
        """One page of feedback of one kind, newest first, and where the next page starts."""
        since = now - self.lookback
        response = es.search(
            index=",".join(index_names(self.index_prefix, Window(since, now))),
            ignore_unavailable=True,
            allow_no_indices=True,
            query={
                "bool": {
                    "filter": [
                        {"term": {"event.action": Action.FEEDBACK_RECEIVED.value}},
                        {"exists": {"field": outcome_field}},
                        {"range": {"@timestamp": {"gte": _iso(since), "lte": _iso(now)}}},
                        *self._scope,
                    ]
                }
            },
            sort=[{"@timestamp": "desc"}, {"event.id": "desc"}],
            size=self.limits.page_size,
            source_includes=_FEEDBACK_SOURCE,
            search_after=after,
        )
        hits = response["hits"]["hits"]
        page = [f for f in (feedback_from(hit["_source"]) for hit in hits) if f is not None]
        more = len(hits) == self.limits.page_size
        return page, (hits[-1]["sort"] if more else None)

    def _predictions(self, es: Elasticsearch, ids: Iterable[str]) -> dict[str, Prediction]:
        """The predictions of `ids` (those found), in terms queries of `chunk_size` ids."""
        timed = sorted((t, i) for i in ids if (t := _issued_at(i)) is not None)
        found: dict[str, Prediction] = {}
        size = self.limits.chunk_size
        for start in range(0, len(timed), size):
            chunk = timed[start : start + size]
            window = Window(chunk[0][0] - _ID_SKEW, chunk[-1][0] + _ID_SKEW)
            response = es.search(
                index=",".join(index_names(self.index_prefix, window)),
                ignore_unavailable=True,
                allow_no_indices=True,
                query={
                    "bool": {
                        "filter": [
                            {"term": {"event.action": Action.PREDICTION_SUCCEEDED.value}},
                            {"terms": {PREDICTION_ID: [i for _, i in chunk]}},
                            *self._scope,
                        ]
                    }
                },
                size=len(chunk),
                source_includes=_PREDICTION_SOURCE,
            )
            for hit in response["hits"]["hits"]:
                prediction = prediction_from(hit["_source"])
                if prediction is not None:
                    found[prediction.prediction_id] = prediction
        return found

    def _log_performance(self, performance: Performance, now: datetime) -> None:
        metric, value, model = performance.metric, performance.value, performance.model_name
        metrics.record_performance(model, metric, value)
        unit = " s" if metric == "mae" else ""
        level: Level = "info"
        bounds = ""
        rule = self.levels.get(metric)
        if rule is not None:
            level = rule.severity_of(value) or "info"
            levels = (("warning", rule.warning), ("critical", rule.critical))
            listed = ", ".join(f"{name} > {at}{unit}" for name, at in levels if at is not None)
            bounds = f" ({listed})"
        emit(
            Action.MODEL_PERFORMANCE,
            f"Rolling {metric.upper()} of {model} over the last "
            f"{performance.window_size} outcomes: {value:.4f}{unit}{bounds}",
            {
                "@timestamp": _iso(now),
                "event.id": signal_event_id(self.name, model, now, self.interval_s),
                "amf1.model.name": model,
                "amf1.model.version": performance.model_version,
                "amf1.performance.metric": metric,
                "amf1.performance.value": round(value, 6),
                "amf1.performance.window_size": performance.window_size,
            },
            level=level,
        )

    def _log_unmatched(
        self, unmatched: Sequence[tuple[Feedback, str]], slot: Window, now: datetime
    ) -> None:
        counts = Counter(reason for _, reason in unmatched)
        listed = ", ".join(f"{counts[r]} {r}" for r in REASONS if counts[r]) or "none"
        emit(
            Action.FEEDBACK_UNMATCHED,
            f"{len(unmatched)} feedback received {_iso(slot.start)} to {_iso(slot.end)} "
            f"matched no prediction ({listed})",
            {
                "@timestamp": _iso(now),
                "event.id": signal_event_id(self.name, "unmatched", now, self.interval_s),
                "amf1.feedback.unmatched_count": len(unmatched),
                **{f"amf1.feedback.unmatched.{r}": counts[r] for r in REASONS},
                "amf1.feedback.unmatched_ids": sorted(f.prediction_id for f, _ in unmatched)[
                    :_LISTED_IDS
                ],
            },
            level="warning" if unmatched else "info",
        )


def _issued_at(prediction_id: str) -> datetime | None:
    """The time a UUIDv7 prediction id embeds; None for anything else."""
    try:
        parsed = uuid.UUID(prediction_id)
    except ValueError:
        return None
    if parsed.version != 7:
        return None
    return datetime.fromtimestamp((parsed.int >> 80) / 1000.0, UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

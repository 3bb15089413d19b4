"""Predictions joined with their feedback, and the rolling MAE / Brier: pure functions on events.

The input is event documents as Elasticsearch holds them (flat dotted ECS names): the
`prediction-succeeded` events (`amf1.prediction.id`, the stage-1 `amf1.prediction.lap_time_s`,
the stage-2 `amf1.prediction.probabilities`) and the `feedback-received` events
(`amf1.prediction.id` and `amf1.feedback.lap_time_s` or `amf1.feedback.winner`).

The metric keeps the service's former per-process semantics, now over the whole service: the
first feedback of a prediction counts (a second one is ignored); a lap time adds one
(predicted, actual) pair, a race adds one (probability, won) pair per driver of the predicted
field; the value is over the last `window` pairs of the model version of the newest matched
prediction (outcomes of an earlier version say nothing about the model now serving), and exists
once there are `min_outcomes` pairs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

Metric = Literal["mae", "brier"]

# Which metric judges which model (model names are the team contract).
METRIC_BY_MODEL: Final[Mapping[str, Metric]] = {
    "stage1-qualifying": "mae",
    "stage2-race-winner": "brier",
}

PREDICTION_ID: Final = "amf1.prediction.id"
FEEDBACK_LAP_TIME: Final = "amf1.feedback.lap_time_s"
FEEDBACK_WINNER: Final = "amf1.feedback.winner"

# Why feedback cannot be joined (the service's `FeedbackMismatchError.reason` where it overlaps).
NOT_FOUND: Final = "prediction_not_found"
KIND_MISMATCH: Final = "kind_mismatch"
WINNER_NOT_IN_FIELD: Final = "winner_not_in_field"
REASONS: Final = (NOT_FOUND, KIND_MISMATCH, WINNER_NOT_IN_FIELD)


@dataclass(frozen=True, slots=True)
class Feedback:
    """One `feedback-received` event: a prediction id and its actual outcome."""

    prediction_id: str
    at: datetime
    event_id: str
    lap_time_s: float | None = None
    winner: str | None = None


@dataclass(frozen=True, slots=True)
class Prediction:
    """One `prediction-succeeded` event, as far as the join needs it."""

    prediction_id: str
    model_name: str
    model_version: str
    at: datetime
    lap_time_s: float | None = None
    probabilities: Mapping[str, float] | None = None


@dataclass(frozen=True, slots=True)
class Matched:
    """A prediction with its outcome: the (predicted, actual) pairs it adds to the metric."""

    prediction: Prediction
    feedback: Feedback
    pairs: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Joined:
    """The join of feedback with predictions, in feedback order (oldest first)."""

    matched: list[Matched] = field(default_factory=list)
    unmatched: list[tuple[Feedback, str]] = field(default_factory=list)
    pending: list[Feedback] = field(default_factory=list)


class PerformanceConfig(BaseModel):
    """Window and cadence of the performance signal (the one place of their defaults; the
    watcher's settings read them from `AMF1_PERFORMANCE_*`). Its warning and critical levels
    are the rules file's, as the alerts' are (`stage1-degradation`, `stage2-degradation`)."""

    model_config = ConfigDict(frozen=True)

    window: int = Field(
        200, ge=1, description="Outcomes in the rolling MAE / Brier (a race adds one per driver)."
    )
    interval_s: float = Field(
        60.0, gt=0, description="Interval of the model-performance events, seconds."
    )
    min_outcomes: int = Field(
        10, ge=1, description="Outcomes needed before model-performance is reported."
    )
    lookback_s: float = Field(
        7 * 86400.0, gt=0, description="Feedback older than this is not read, seconds."
    )
    grace_s: float = Field(
        300.0,
        ge=0,
        description="How long a feedback's prediction may take to be indexed before the "
        "feedback counts as unmatched, seconds.",
    )


@dataclass(frozen=True, slots=True)
class Performance:
    """The rolling metric of one model version."""

    model_name: str
    model_version: str
    metric: Metric
    value: float
    window_size: int


def parse_time(text: str) -> datetime:
    """An `@timestamp` as the pipeline writes it (ISO 8601, `Z`)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def feedback_from(source: Mapping[str, Any]) -> Feedback | None:
    """The feedback of a `feedback-received` document; None when it carries no usable outcome."""
    prediction_id, at = source.get(PREDICTION_ID), source.get("@timestamp")
    if not isinstance(prediction_id, str) or not isinstance(at, str):
        return None
    lap_time_s, winner = source.get(FEEDBACK_LAP_TIME), source.get(FEEDBACK_WINNER)
    lap = float(lap_time_s) if isinstance(lap_time_s, int | float) else None
    won = winner if isinstance(winner, str) else None
    if (lap is None) == (won is None):
        return None
    return Feedback(prediction_id, parse_time(at), str(source.get("event.id", "")), lap, won)


def prediction_from(source: Mapping[str, Any]) -> Prediction | None:
    """The prediction of a `prediction-succeeded` document; None without id, model or time."""
    prediction_id, at = source.get(PREDICTION_ID), source.get("@timestamp")
    name, version = source.get("amf1.model.name"), source.get("amf1.model.version")
    if not all(isinstance(value, str) for value in (prediction_id, at, name, version)):
        return None
    lap_time_s = source.get("amf1.prediction.lap_time_s")
    raw = source.get("amf1.prediction.probabilities")
    probabilities = (
        {str(driver): float(p) for driver, p in raw.items() if isinstance(p, int | float)}
        if isinstance(raw, Mapping)
        else None
    )
    return Prediction(
        str(prediction_id),
        str(name),
        str(version),
        parse_time(str(at)),
        float(lap_time_s) if isinstance(lap_time_s, int | float) else None,
        probabilities or None,
    )


def first_feedback(feedback: Iterable[Feedback]) -> list[Feedback]:
    """The first feedback of each prediction (the earliest; ties by event id), oldest first."""
    first: dict[str, Feedback] = {}
    for item in feedback:
        kept = first.get(item.prediction_id)
        if kept is None or (item.at, item.event_id) < (kept.at, kept.event_id):
            first[item.prediction_id] = item
    return sorted(first.values(), key=lambda item: (item.at, item.event_id))


def join(
    feedback: Sequence[Feedback],
    predictions: Mapping[str, Prediction],
    *,
    final_before: datetime,
) -> Joined:
    """Join deduplicated feedback (oldest first) with the predictions found by id.

    Args:
        feedback: from `first_feedback`.
        predictions: prediction id -> prediction.
        final_before: feedback older than this whose prediction is not found is unmatched
            (`prediction_not_found`); younger, it is pending (its prediction may not be indexed
            yet).
    """
    joined = Joined()
    for item in feedback:
        prediction = predictions.get(item.prediction_id)
        if prediction is None:
            if item.at < final_before:
                joined.unmatched.append((item, NOT_FOUND))
            else:
                joined.pending.append(item)
            continue
        pairs, reason = _pairs(prediction, item)
        if reason is not None:
            joined.unmatched.append((item, reason))
        elif pairs:
            joined.matched.append(Matched(prediction, item, pairs))
    return joined


def _pairs(
    prediction: Prediction, feedback: Feedback
) -> tuple[tuple[tuple[float, float], ...], str | None]:
    """The (predicted, actual) pairs of one outcome, or the reason it does not fit."""
    pairs: tuple[tuple[float, float], ...]
    if prediction.lap_time_s is not None:
        if feedback.lap_time_s is None:
            return (), KIND_MISMATCH
        pairs = ((prediction.lap_time_s, feedback.lap_time_s),)
    elif prediction.probabilities is not None:
        if feedback.winner is None:
            return (), KIND_MISMATCH
        if feedback.winner not in prediction.probabilities:
            return (), WINNER_NOT_IN_FIELD
        pairs = tuple(
            (p, 1.0 if driver == feedback.winner else 0.0)
            for driver, p in prediction.probabilities.items()
        )
    else:
        return (), KIND_MISMATCH
    # A non-finite prediction cannot be scored; the feedback itself was fine.
    return tuple(pair for pair in pairs if math.isfinite(pair[0]) and math.isfinite(pair[1])), None


def rolling(
    matched: Sequence[Matched], model_name: str, config: PerformanceConfig
) -> Performance | None:
    """The rolling metric of `model_name` over `matched` (oldest first); None: too few pairs.

    Only the version of the model's newest matched prediction counts; its last `window` pairs
    give the value, which exists once there are at least `min_outcomes` pairs.
    """
    metric = METRIC_BY_MODEL.get(model_name)
    own = [m for m in matched if m.prediction.model_name == model_name]
    if metric is None or not own:
        return None
    version = max(own, key=lambda m: m.prediction.at).prediction.model_version
    pairs = [pair for m in own if m.prediction.model_version == version for pair in m.pairs]
    pairs = pairs[-config.window :]
    if not pairs or len(pairs) < config.min_outcomes:
        return None
    values = np.asarray(pairs, dtype=np.float64)
    errors = values[:, 0] - values[:, 1]
    value = float(np.mean(np.abs(errors)) if metric == "mae" else np.mean(np.square(errors)))
    return Performance(model_name, version, metric, value, len(pairs))


def pair_count(matched: Sequence[Matched], model_name: str) -> int:
    """How many pairs `matched` holds for `model_name` (every version)."""
    return sum(len(m.pairs) for m in matched if m.prediction.model_name == model_name)

"""Predictions joined with feedback, and the rolling MAE / Brier, on event documents."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, mean_absolute_error

from alerting.signals.outcomes import (
    KIND_MISMATCH,
    NOT_FOUND,
    WINNER_NOT_IN_FIELD,
    Feedback,
    Matched,
    PerformanceConfig,
    Prediction,
    feedback_from,
    first_feedback,
    join,
    prediction_from,
    rolling,
)

STAGE1, STAGE2 = "stage1-qualifying", "stage2-race-winner"
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lap_prediction(pid: str, lap_time_s: float, *, s: float = 0, version: str = "1") -> Prediction:
    return Prediction(pid, STAGE1, version, T0 + timedelta(seconds=s), lap_time_s=lap_time_s)


def race_prediction(pid: str, probabilities: dict[str, float], *, s: float = 0) -> Prediction:
    return Prediction(pid, STAGE2, "1", T0 + timedelta(seconds=s), probabilities=probabilities)


def lap(pid: str, lap_time_s: float, s: float, event_id: str = "e") -> Feedback:
    return Feedback(pid, T0 + timedelta(seconds=s), event_id, lap_time_s=lap_time_s)


def won(pid: str, winner: str, s: float, event_id: str = "e") -> Feedback:
    return Feedback(pid, T0 + timedelta(seconds=s), event_id, winner=winner)


def matched_of(
    predictions: list[Prediction], feedback: list[Feedback], final_s: float = 1e9
) -> list[Matched]:
    by_id = {p.prediction_id: p for p in predictions}
    return join(
        first_feedback(feedback), by_id, final_before=T0 + timedelta(seconds=final_s)
    ).matched


def test_documents_parse_into_feedback_and_predictions() -> None:
    """Flat dotted ECS documents, as indexed, give the join its inputs."""
    feedback: dict[str, Any] = {
        "@timestamp": at(5),
        "event.id": "f1",
        "amf1.prediction.id": "p1",
        "amf1.feedback.winner": "varga",
    }
    prediction: dict[str, Any] = {
        "@timestamp": at(0),
        "amf1.prediction.id": "p1",
        "amf1.model.name": STAGE2,
        "amf1.model.version": "3",
        "amf1.prediction.probabilities": {"varga": 0.75, "okafor": 0.25},
    }
    assert feedback_from(feedback) == won("p1", "varga", 5, "f1")
    assert prediction_from(prediction) == Prediction(
        "p1", STAGE2, "3", T0, probabilities={"varga": 0.75, "okafor": 0.25}
    )
    assert feedback_from({**feedback, "amf1.feedback.lap_time_s": 80.0}) is None  # both


def test_mae_by_hand_over_the_last_window_outcomes() -> None:
    """MAE of |predicted - actual| over the newest `window` outcomes: (0.2 + 0.4) / 2."""
    predictions = [lap_prediction(f"p{i}", 90.0) for i in range(3)]
    feedback = [lap("p0", 91.0, 1), lap("p1", 90.2, 2), lap("p2", 89.6, 3)]
    config = PerformanceConfig(window=2, min_outcomes=1)
    performance = rolling(matched_of(predictions, feedback), STAGE1, config)
    assert performance is not None
    assert performance.value == pytest.approx(0.3)
    assert (performance.metric, performance.window_size, performance.model_version) == (
        "mae",
        2,
        "1",
    )


def test_brier_by_hand_counts_one_outcome_per_driver() -> None:
    """A race adds one (probability, won) pair per driver: ((0.3-1)^2 + 0.5^2 + 0.2^2) / 3."""
    predictions = [race_prediction("r1", {"a": 0.3, "b": 0.5, "c": 0.2})]
    config = PerformanceConfig(min_outcomes=3)
    performance = rolling(matched_of(predictions, [won("r1", "a", 1)]), STAGE2, config)
    assert performance is not None
    assert performance.value == pytest.approx((0.7**2 + 0.5**2 + 0.2**2) / 3)
    assert performance.window_size == 3


def test_the_window_counts_pairs_so_a_race_may_be_cut() -> None:
    """As the per-process tracker did: the last `window` pairs, whichever races they belong to."""
    predictions = [
        race_prediction("r1", {"a": 0.9, "b": 0.1}),
        race_prediction("r2", {"a": 0.4, "b": 0.6}, s=1),
    ]
    feedback = [won("r1", "a", 2), won("r2", "a", 3)]
    performance = rolling(
        matched_of(predictions, feedback), STAGE2, PerformanceConfig(window=3, min_outcomes=1)
    )
    assert performance is not None
    assert performance.value == pytest.approx((0.1**2 + 0.6**2 + 0.6**2) / 3)


def test_metrics_equal_scikit_learn_on_many_outcomes() -> None:
    """Over 300 lap times and 40 races the values are scikit-learn's on the same pairs."""
    rng = np.random.default_rng(7)
    actual = rng.normal(88.0, 5.0, 300)
    predicted = actual + rng.normal(0.0, 0.4, 300)
    laps = [lap_prediction(f"l{i}", float(p)) for i, p in enumerate(predicted)]
    lap_feedback = [lap(f"l{i}", float(a), i + 1) for i, a in enumerate(actual)]
    config = PerformanceConfig(window=200, min_outcomes=1)
    mae = rolling(matched_of(laps, lap_feedback), STAGE1, config)
    assert mae is not None
    assert math.isclose(mae.value, mean_absolute_error(actual[-200:], predicted[-200:]))

    races, race_feedback, probs, outcomes = [], [], [], []
    for r in range(40):
        field = rng.dirichlet(np.ones(5))
        winner = int(rng.integers(5))
        races.append(race_prediction(f"r{r}", {f"d{i}": float(p) for i, p in enumerate(field)}))
        race_feedback.append(won(f"r{r}", f"d{winner}", r + 1))
        probs += field.tolist()
        outcomes += [1.0 if i == winner else 0.0 for i in range(5)]
    brier = rolling(matched_of(races, race_feedback), STAGE2, config)
    assert brier is not None
    assert math.isclose(brier.value, brier_score_loss(outcomes[-200:], probs[-200:]))


def test_the_first_feedback_of_a_prediction_counts() -> None:
    """A later duplicate (another worker accepted it too) neither replaces nor doubles it."""
    feedback = [lap("p1", 95.0, 9, "late"), lap("p1", 90.5, 1, "first"), lap("p2", 90.0, 2)]
    deduped = first_feedback(feedback)
    assert [(f.prediction_id, f.lap_time_s) for f in deduped] == [("p1", 90.5), ("p2", 90.0)]
    predictions = [lap_prediction("p1", 90.0), lap_prediction("p2", 90.0)]
    performance = rolling(
        matched_of(predictions, feedback), STAGE1, PerformanceConfig(min_outcomes=1)
    )
    assert performance is not None
    assert performance.value == pytest.approx(0.25)


def test_unmatched_feedback_is_told_by_reason_and_recent_misses_wait() -> None:
    """Not found (after the grace), wrong kind, winner outside the field; a recent miss pends."""
    predictions = {
        "lap": lap_prediction("lap", 90.0),
        "race": race_prediction("race", {"a": 0.5, "b": 0.5}),
        "race2": race_prediction("race2", {"a": 0.5, "b": 0.5}),
    }
    feedback = [
        lap("gone", 90.0, 1),
        won("lap", "a", 2),
        lap("race", 90.0, 3),
        won("race2", "z", 4),
        lap("fresh", 90.0, 100),
    ]
    joined = join(first_feedback(feedback), predictions, final_before=T0 + timedelta(seconds=60))
    assert [(f.prediction_id, why) for f, why in joined.unmatched] == [
        ("gone", NOT_FOUND),
        ("lap", KIND_MISMATCH),
        ("race", KIND_MISMATCH),
        ("race2", WINNER_NOT_IN_FIELD),
    ]
    assert [f.prediction_id for f in joined.pending] == ["fresh"]
    assert joined.matched == []


def test_only_the_newest_version_counts_and_min_outcomes_holds_it_back() -> None:
    """After a reload the older version's outcomes are dropped; too few pairs give no value."""
    predictions = [
        lap_prediction("old", 90.0, s=0, version="1"),
        lap_prediction("new", 90.0, s=10, version="2"),
    ]
    feedback = [lap("old", 95.0, 11), lap("new", 90.3, 12)]
    matched = matched_of(predictions, feedback)
    performance = rolling(matched, STAGE1, PerformanceConfig(min_outcomes=1))
    assert performance is not None
    assert (performance.model_version, performance.value) == ("2", pytest.approx(0.3))
    assert rolling(matched, STAGE1, PerformanceConfig(min_outcomes=2)) is None

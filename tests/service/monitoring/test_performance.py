"""Rolling MAE and Brier score from feedback, and their model-performance events."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, mean_absolute_error
from structlog.testing import capture_logs

from logshipping.events import CATALOGUE, Action
from service.monitoring.performance import PerformanceConfig, PerformanceTracker


def tracker(metric: str, **config: Any) -> PerformanceTracker:
    name = "stage1-qualifying" if metric == "mae" else "stage2-race-winner"
    return PerformanceTracker(name, "3", metric, PerformanceConfig(**config))  # type: ignore[arg-type]


def test_mae_equals_scikit_learn_over_the_last_n_outcomes() -> None:
    """Stage-1 MAE is scikit-learn's mean_absolute_error over the newest `window` outcomes."""
    rng = np.random.default_rng(31)
    actual = rng.normal(88.0, 5.0, 500)
    predicted = actual + rng.normal(0.0, 0.4, 500)
    t = tracker("mae", window=200)
    for p, a in zip(predicted, actual, strict=True):
        t.record(p, a)
    assert len(t) == 200
    want = mean_absolute_error(actual[-200:], predicted[-200:])
    assert math.isclose(t.value() or 0.0, want, rel_tol=1e-12)


def test_brier_equals_scikit_learn() -> None:
    """Stage-2 Brier score is scikit-learn's brier_score_loss on the same outcomes."""
    rng = np.random.default_rng(32)
    probability = rng.uniform(0.0, 1.0, 150)
    won = (rng.uniform(0.0, 1.0, 150) < probability).astype(float)
    t = tracker("brier", window=200)
    for p, o in zip(probability, won, strict=True):
        t.record(p, o)
    assert math.isclose(t.value() or 0.0, brier_score_loss(won, probability), rel_tol=1e-12)


def test_no_outcomes_means_no_value_and_no_event() -> None:
    """Without feedback there is nothing to report."""
    t = tracker("mae")
    with capture_logs() as logs:
        assert t.report(0.0) is None
    assert t.value() is None
    assert logs == []


@pytest.mark.parametrize(
    ("metric", "error", "level"),
    [
        ("mae", 0.30, "info"),
        ("mae", 0.45, "warning"),
        ("mae", 0.55, "critical"),
        ("brier", 0.040, "info"),
        ("brier", 0.046, "warning"),
        ("brier", 0.050, "critical"),
    ],
)
def test_event_level_follows_the_thresholds(metric: str, error: float, level: str) -> None:
    """MAE > 0.40 s warns, > 0.50 s is critical; Brier > 0.045 warns, > 0.0475 is critical."""
    t = tracker(metric, min_outcomes=1)
    # one outcome whose MAE (|error|) or Brier score (squared error) is `error`
    if metric == "brier":
        t.record(math.sqrt(error), 0.0)
    else:
        t.record(90.0 + error, 90.0)
    with capture_logs() as logs:
        t.report(0.0)
    (event,) = logs
    assert event["event.action"] == Action.MODEL_PERFORMANCE.value
    assert CATALOGUE[Action.MODEL_PERFORMANCE].required <= event.keys()
    assert event["log_level"] == level
    assert event["amf1.performance.metric"] == metric
    assert math.isclose(event["amf1.performance.value"], error, rel_tol=1e-6)


def test_thresholds_are_configurable() -> None:
    """A custom warning threshold changes the level."""
    t = tracker("mae", min_outcomes=1, mae_warning_s=0.1, mae_critical_s=5.0)
    t.record(90.2, 90.0)
    with capture_logs() as logs:
        t.report(0.0)
    assert logs[0]["log_level"] == "warning"


def test_report_is_due_after_enough_outcomes_and_once_per_interval() -> None:
    """Reports wait for `min_outcomes`, then come every `interval_s`."""
    t = tracker("mae", min_outcomes=3, interval_s=60.0)
    t.record(90.1, 90.0)
    t.record(90.1, 90.0)
    assert not t.due(0.0)
    t.record(90.1, 90.0)
    assert t.due(0.0)
    t.report(0.0)
    assert not t.due(59.0)
    assert t.due(60.0)


@pytest.mark.parametrize(("predicted", "actual"), [(0.3, 0.5), (math.nan, 1.0), (0.2, math.inf)])
def test_invalid_outcomes_are_refused(predicted: float, actual: float) -> None:
    """A Brier outcome other than 0/1, or a non-finite number, raises ValueError."""
    with pytest.raises(ValueError, match=r"outcome|finite"):
        tracker("brier").record(predicted, actual)

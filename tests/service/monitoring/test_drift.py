"""Drift and missing-data detection over a sliding window of requests."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from structlog.testing import capture_logs

from logshipping.events import CATALOGUE, Action
from service.monitoring.drift import DriftConfig, DriftMonitor
from tests.service.monitoring import synthetic

MODEL = "stage1-qualifying"
# Documented false-positive level: at most 0.1 % of (feature, evaluation) pairs flag drift when
# the inputs follow the reference (the chi-square significance level bounds it).
FALSE_POSITIVE_LEVEL = 0.001


def monitor(config: DriftConfig | None = None) -> DriftMonitor:
    references = synthetic.training_reference()
    return DriftMonitor(MODEL, "1", references, config or DriftConfig())


def feed(m: DriftMonitor, rows: list[list[object]], start: float = 0.0) -> float:
    """Update with `rows` at 1 ms apart from `start`; returns the time after the last."""
    now = start
    for row in rows:
        m.update(row, now=now)
        now += 0.001
    return now


def events(logs: list[dict[str, Any]], action: Action) -> list[dict[str, Any]]:
    return [log for log in logs if log.get("event.action") == action.value]


def test_inputs_from_the_reference_raise_no_drift() -> None:
    """3,000 requests drawn like the training data: no drift-detected event at any check."""
    m = monitor()
    rng = np.random.default_rng(11)
    with capture_logs() as logs:
        now = 0.0
        for _ in range(30):
            now = feed(m, synthetic.rows(synthetic.sample_columns(rng, 100)), now)
            assert m.due(now)
            report = m.check(now)
    assert events(logs, Action.DRIFT_DETECTED) == []
    assert all(score.score is not None for score in report.scores)


def test_false_positive_rate_stays_under_the_documented_level() -> None:
    """Over 1,000 disjoint reference-drawn windows of the smallest scored size (200), the share
    of (feature, window) pairs flagged as drift stays under 0.1 %."""
    config = DriftConfig(window_size=200, min_samples=200)
    m = monitor(config)
    rng = np.random.default_rng(12)
    flagged = evaluations = 0
    now = 0.0
    for _ in range(1_000):
        now = feed(m, synthetic.rows(synthetic.sample_columns(rng, 200)), now)
        report = m.evaluate(now)
        flagged += len(report.drifted(config.psi_threshold, config.significance))
        evaluations += len(report.scores)
    assert evaluations == 7_000
    assert flagged / evaluations <= FALSE_POSITIVE_LEVEL


@pytest.mark.parametrize(
    ("feature", "shift"),
    [("track_temp_c", 8.0), ("practice_best_lap_s", -4.0), ("rain_probability", 0.15)],
)
def test_a_shifted_numeric_feature_drifts_alone(feature: str, shift: float) -> None:
    """Shifting one numeric feature flags exactly that feature, with the catalogue's fields."""
    m = monitor()
    rng = np.random.default_rng(13)
    columns = synthetic.sample_columns(rng, 1_000, shift={feature: shift})
    now = feed(m, synthetic.rows(columns))
    with capture_logs() as logs:
        m.check(now)
    drift = events(logs, Action.DRIFT_DETECTED)
    assert [event["amf1.drift.feature"] for event in drift] == [feature]
    event = drift[0]
    assert CATALOGUE[Action.DRIFT_DETECTED].required <= event.keys()
    assert event["log_level"] == "warning"
    assert event["amf1.model.name"] == MODEL
    assert event["amf1.drift.score"] > event["amf1.drift.threshold"] == 0.2
    assert event["amf1.drift.p_value"] < 0.001
    assert event["amf1.drift.window_size"] == 1_000
    assert event["amf1.drift.summary"].startswith("p10/p50/p90 reference ")


def test_a_shifted_category_mix_drifts_alone() -> None:
    """When most requests come from three circuits, `circuit` drifts and nothing else does."""
    m = monitor()
    rng = np.random.default_rng(14)
    columns = synthetic.sample_columns(rng, 1_000)
    columns["circuit"] = rng.choice(np.array(synthetic.CIRCUITS[:3], dtype=object), 1_000)
    now = feed(m, synthetic.rows(columns))
    with capture_logs() as logs:
        m.check(now)
    drift = events(logs, Action.DRIFT_DETECTED)
    assert [event["amf1.drift.feature"] for event in drift] == ["circuit"]
    assert "C00" in drift[0]["amf1.drift.summary"]


def test_ignored_features_are_not_scored() -> None:
    """A feature in `ignore_features` is left out by the hub's filter, so it never drifts."""
    references = synthetic.training_reference()
    kept = {name: ref for name, ref in references.items() if name != "circuit"}
    m = DriftMonitor(MODEL, "1", kept)
    assert "circuit" not in m.features


def inject_missing(rows: list[list[object]], rate: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for row in rows:
        for i in range(len(row)):
            if rng.random() < rate:
                row[i] = None


def test_missing_values_above_five_percent_raise_the_warning() -> None:
    """About 8 % missing input values: a warning-level missing-data-rate event, and no drift."""
    m = monitor()
    rows = synthetic.rows(synthetic.sample_columns(np.random.default_rng(15), 1_000))
    inject_missing(rows, 0.08, seed=16)
    now = feed(m, rows)
    with capture_logs() as logs:
        m.check(now)
    missing = events(logs, Action.MISSING_DATA_RATE)
    assert len(missing) == 1
    assert missing[0]["log_level"] == "warning"
    assert CATALOGUE[Action.MISSING_DATA_RATE].required <= missing[0].keys()
    assert 0.06 < missing[0]["amf1.data.missing_rate"] < 0.10
    assert events(logs, Action.DRIFT_DETECTED) == []


def test_missing_values_below_five_percent_raise_no_warning() -> None:
    """About 3 % missing values: only the info-level series event, no warning."""
    m = monitor()
    rows = synthetic.rows(synthetic.sample_columns(np.random.default_rng(17), 1_000))
    inject_missing(rows, 0.03, seed=18)
    now = feed(m, rows)
    with capture_logs() as logs:
        m.check(now)
    missing = events(logs, Action.MISSING_DATA_RATE)
    assert [event["log_level"] for event in missing] == ["info"]
    assert missing[0]["amf1.data.missing_rate"] < 0.05


def test_missing_rate_series_is_emitted_once_per_interval() -> None:
    """Below the threshold the info event repeats at most every `missing_report_interval_s`."""
    m = monitor(DriftConfig(missing_report_interval_s=60.0, min_samples=10))
    rng = np.random.default_rng(19)
    with capture_logs() as logs:
        for now in (0.0, 30.0, 61.0, 90.0, 125.0):
            feed(m, synthetic.rows(synthetic.sample_columns(rng, 10)), now - 0.5)
            m.check(now)
    assert len(events(logs, Action.MISSING_DATA_RATE)) == 3


def test_no_missing_rate_from_a_window_below_min_samples() -> None:
    """A few requests give no missing-data-rate event at all, even if they lack values."""
    m = monitor(DriftConfig(min_samples=200))
    rows = synthetic.rows(synthetic.sample_columns(np.random.default_rng(27), 20))
    inject_missing(rows, 0.5, seed=28)
    now = feed(m, rows)
    with capture_logs() as logs:
        m.check(now)
    assert events(logs, Action.MISSING_DATA_RATE) == []


def test_persistent_drift_is_reported_once_per_cooldown() -> None:
    """A drift that persists is reported again only after the per-feature cooldown."""
    m = monitor(DriftConfig(cooldown_s=900.0, window_max_age_s=1e9))
    rng = np.random.default_rng(20)

    def shifted(n: int) -> list[list[object]]:
        return synthetic.rows(synthetic.sample_columns(rng, n, shift={"air_temp_c": 10.0}))

    with capture_logs() as logs:
        m.check(feed(m, shifted(500), start=0.0))
        m.check(feed(m, shifted(100), start=600.0))
        m.check(feed(m, shifted(100), start=1_000.0))
    drift = events(logs, Action.DRIFT_DETECTED)
    assert [event["amf1.drift.feature"] for event in drift] == ["air_temp_c", "air_temp_c"]


def test_window_is_bounded_by_size() -> None:
    """The window never holds more than `window_size` requests; counts follow evictions."""
    m = monitor(DriftConfig(window_size=300, min_samples=50))
    feed(m, synthetic.rows(synthetic.sample_columns(np.random.default_rng(21), 1_000)))
    assert len(m) == 300
    report = m.evaluate(2.0)
    assert report.window_size == 300
    assert {score.present + score.missing for score in report.scores} == {300}


def test_window_forgets_requests_older_than_the_max_age() -> None:
    """Requests older than `window_max_age_s` leave the window."""
    m = monitor(DriftConfig(window_max_age_s=10.0))
    feed(m, synthetic.rows(synthetic.sample_columns(np.random.default_rng(22), 100)), start=0.0)
    feed(m, synthetic.rows(synthetic.sample_columns(np.random.default_rng(23), 5)), start=9.0)
    assert len(m) == 105
    assert m.evaluate(15.0).window_size == 5
    assert m.evaluate(100.0).window_size == 0


def test_small_windows_are_not_scored() -> None:
    """Below `min_samples` present values a feature gets no score, even when shifted."""
    m = monitor(DriftConfig(min_samples=200))
    columns = synthetic.sample_columns(np.random.default_rng(24), 150, shift={"air_temp_c": 30.0})
    now = feed(m, synthetic.rows(columns))
    with capture_logs() as logs:
        report = m.check(now)
    assert {score.score for score in report.scores} == {None}
    assert events(logs, Action.DRIFT_DETECTED) == []


def test_evaluation_is_due_every_k_requests_or_after_the_interval() -> None:
    """`due` turns true after K new requests, or after the interval when requests are pending."""
    m = monitor(DriftConfig(evaluate_every_requests=100, evaluate_interval_s=60.0))
    rows = synthetic.rows(synthetic.sample_columns(np.random.default_rng(25), 100))
    feed(m, rows[:99], start=1.0)
    assert not m.due(2.0)
    m.update(rows[99], now=2.0)
    assert m.due(2.0)
    m.evaluate(2.0)
    assert not m.due(100.0)
    m.update(rows[0], now=30.0)
    assert not m.due(61.0)
    assert m.due(62.0)


def test_rows_of_the_model_matrix_are_read_by_column_and_category_code() -> None:
    """Rows laid out like the model matrix (other column order, categories as float codes, NaN
    for missing) are binned like named values: same counts as the plain rows."""
    references = synthetic.training_reference()
    plain = DriftMonitor(MODEL, "1", references, DriftConfig(min_samples=10))
    codes = {"driver": sorted(synthetic.DRIVERS), "circuit": sorted(synthetic.CIRCUITS)}
    columns = list(reversed(synthetic.FEATURES))
    matrix = DriftMonitor(
        MODEL, "1", references, DriftConfig(min_samples=10), columns=columns, categories=codes
    )
    rows = synthetic.rows(synthetic.sample_columns(np.random.default_rng(26), 300))
    rows[0][2] = None
    for row in rows:
        plain.update(row, now=1.0)
        named = dict(zip(synthetic.FEATURES, row, strict=True))
        encoded = [
            float(codes[name].index(str(named[name]))) if name in codes else named[name]
            for name in columns
        ]
        encoded = [math.nan if value is None else value for value in encoded]
        matrix.update(encoded, now=1.0)
    assert plain.evaluate(2.0) == matrix.evaluate(2.0)


def test_a_reference_feature_missing_from_the_columns_is_refused() -> None:
    """Constructing a monitor whose rows lack a referenced feature raises ValueError."""
    references = synthetic.training_reference()
    with pytest.raises(ValueError, match="air_temp_c"):
        DriftMonitor(MODEL, "1", references, columns=["driver"])

"""Drift and missing data over all workers: merged `drift-counts` events, scored by the watcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from structlog.testing import capture_logs

from alerting.signals.drift_counts import (
    CountsFormatError,
    merge,
    missing,
    parse_report,
    window,
)
from alerting.signals.drift_score import DriftScoring, drifted, past_cooldown
from logshipping.events import CATALOGUE, Action
from service.monitoring.drift import DriftCounter
from tests.service.monitoring import synthetic

MODEL = "stage1-qualifying"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def counts_events(rows: list[list[object]], every: int = 100) -> list[dict[str, Any]]:
    """The `drift-counts` events one worker logs for `rows`, reporting every `every` rows."""
    counter = DriftCounter(MODEL, "1", synthetic.training_reference())
    with capture_logs() as logs:
        for i, row in enumerate(rows, 1):
            counter.update(row)
            if i % every == 0:
                counter.report()
        counter.report()
    return [log for log in logs if log["event.action"] == Action.DRIFT_COUNTS.value]


def newest_first(events: list[dict[str, Any]]) -> list[Any]:
    return [parse_report(event) for event in reversed(events)]


def sample(seed: int, n: int, shift: dict[str, float] | None = None) -> list[list[object]]:
    return synthetic.rows(synthetic.sample_columns(np.random.default_rng(seed), n, shift=shift))


def test_a_counts_event_carries_the_catalogue_fields_and_the_reference() -> None:
    """Each report has the model, the row count and per feature bins, missing, expected shares."""
    (event,) = counts_events(sample(1, 50), every=1_000)
    assert CATALOGUE[Action.DRIFT_COUNTS].required <= event.keys()
    assert event["amf1.drift.rows"] == 50
    air = event["amf1.drift.counts"]["air_temp_c"]
    assert sum(air["bins"]) + air["missing"] == 50
    assert len(air["edges"]) == len(air["bins"]) + 1 == len(air["expected"]) + 1
    assert event["amf1.drift.counts"]["driver"]["categories"][-1] == "__unseen__"


def test_counts_of_three_workers_add_up_to_the_single_process_answer() -> None:
    """Rows split over three workers (each its own reports) merge into the counts of one
    process that saw all rows: same bins, same missing counts, same row total."""
    rows = sample(2, 900)
    single = merge(newest_first(counts_events(rows, every=1_000)))
    workers = [counts_events(rows[i::3], every=70) for i in range(3)]
    merged = merge(report for events in workers for report in newest_first(events))
    assert merged.rows == single.rows == 900
    assert merged.features.keys() == single.features.keys()
    for name, counts in single.features.items():
        assert np.array_equal(merged.features[name].bins, counts.bins), name
        assert merged.features[name].missing == counts.missing


def test_the_window_takes_the_newest_reports_until_it_holds_window_size_rows() -> None:
    """Newest first, whole reports, until `window_size` rows (the last one may overshoot)."""
    reports = newest_first(counts_events(sample(3, 1_000), every=300))
    assert [r.rows for r in reports] == [100, 300, 300, 300]
    assert [r.rows for r in window(reports, 500)] == [100, 300, 300]
    assert sum(r.rows for r in window(reports, 10_000)) == 1_000


def test_reference_like_traffic_of_three_workers_raises_no_drift() -> None:
    """Rows drawn like the training data, over three workers: every feature scored, none drifts."""
    events = [e for seed in (4, 5, 6) for e in counts_events(sample(seed, 400))]
    merged, found = drifted(newest_first(events), DriftScoring())
    assert merged.rows == 1_000
    assert found == []


@pytest.mark.parametrize(
    ("feature", "shift"),
    [("track_temp_c", 8.0), ("practice_best_lap_s", -4.0), ("rain_probability", 0.15)],
)
def test_a_shift_in_one_feature_flags_exactly_that_feature(feature: str, shift: float) -> None:
    """Traffic shifted in one feature, spread over three workers: over the merged window of
    1,000 rows only that feature drifts (PSI over 0.2 and p below 0.001)."""
    events = [e for seed in (7, 8, 9) for e in counts_events(sample(seed, 340, {feature: shift}))]
    _, found = drifted(newest_first(events), DriftScoring())
    assert [score.feature for score in found] == [feature]
    assert found[0].score is not None and found[0].score > 0.2
    assert found[0].p_value is not None and found[0].p_value < 0.001


def test_ignored_and_small_windows_are_not_scored() -> None:
    """An ignored feature is left out; below `min_samples` present values nothing drifts."""
    events = counts_events(sample(10, 1_000, shift={"air_temp_c": 30.0}))
    _, found = drifted(
        newest_first(events), DriftScoring(ignore_features=frozenset({"air_temp_c"}))
    )
    assert found == []
    small = counts_events(sample(11, 150, shift={"air_temp_c": 30.0}))
    merged, found = drifted(newest_first(small), DriftScoring())
    assert merged.rows == 150
    assert found == []


def test_a_persisting_drift_is_reported_again_only_after_the_cooldown() -> None:
    """A feature last reported less than `cooldown_s` ago is held back; after it, reported."""
    events = counts_events(sample(12, 1_000, shift={"air_temp_c": 10.0}))
    _, found = drifted(newest_first(events), DriftScoring())
    assert [s.feature for s in found] == ["air_temp_c"]
    assert past_cooldown(found, {}, NOW, 600.0) == found
    recent = {"air_temp_c": NOW - timedelta(seconds=599)}
    assert past_cooldown(found, recent, NOW, 600.0) == []
    older = {"air_temp_c": NOW - timedelta(seconds=600)}
    assert past_cooldown(found, older, NOW, 600.0) == found


def inject_missing(rows: list[list[object]], rate: float, seed: int) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    return [[None if rng.random() < rate else value for value in row] for row in rows]


def test_missing_rate_is_over_all_workers() -> None:
    """One worker with 20 % missing values, two with none: 20 % of a third of the values."""
    events = counts_events(inject_missing(sample(13, 300), 0.2, seed=14))
    events += counts_events(sample(15, 300)) + counts_events(sample(16, 300))
    counts = missing(newest_first(events))
    assert counts.rows == 900
    assert counts.values == 900 * len(synthetic.FEATURES)
    assert counts.rate == pytest.approx(0.2 / 3, abs=0.01)


def test_a_malformed_report_is_refused_with_the_field_named() -> None:
    """A report without bins, or with bins that do not match its reference, raises."""
    (event,) = counts_events(sample(17, 10), every=1_000)
    del event["amf1.drift.counts"]["driver"]["bins"]
    with pytest.raises(CountsFormatError, match="driver"):
        parse_report(event)
